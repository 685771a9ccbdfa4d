"""Models built from keras_slots layers."""

from keras_slots.models.autoencoder import SlotAttentionAutoEncoder
