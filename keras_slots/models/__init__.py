"""Models built from keras_slots layers."""

from keras_slots.models.autoencoder import SlotAttentionAutoEncoder
from keras_slots.models.slot_mlp import SlotMLP
