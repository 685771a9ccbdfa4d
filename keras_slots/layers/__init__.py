"""Custom Keras layers of keras_slots."""

from keras_slots.layers.decoders import SpatialBroadcastDecoder
from keras_slots.layers.encoders import CNNEncoder
from keras_slots.layers.set_prediction_head import SetPredictionHead
from keras_slots.layers.position import SoftPositionEmbed, build_grid
from keras_slots.layers.slot_attention import SlotAttention
from keras_slots.layers.slot_mlp import SlotMLP
