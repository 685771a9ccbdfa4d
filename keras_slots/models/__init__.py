"""Models assembled from keras_slots layers, and the factory that builds them from configs."""

from keras_slots.models.autoencoder import SlotAttentionAutoEncoder
from keras_slots.models.factory import build_layers, create_model, create_set_predictor
from keras_slots.models.set_prediction import SlotAttentionSetPredictor
