"""Per-slot property head of the set-prediction model: slot -> 19 sigmoid outputs."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_slots")
class SetPredictionHead(keras.layers.Layer):
    """The same MLP on every slot: Dense(hidden_size, relu) -> Dense(output_size) -> sigmoid.

    The sigmoid is applied in float32, so outputs are float32 probabilities also under a
    mixed-precision policy.

    Args:
        hidden_size: units of the hidden layer (paper: 64).
        output_size: numbers predicted per slot (paper: 19, see set_prediction.targets).

    Call arguments:
        slots: [B, K, D] slots.

    Returns:
        float32 [B, K, output_size] in (0, 1).

    Example:
        >>> SetPredictionHead()(np.zeros((2, 10, 64), "float32")).shape
        TensorShape([2, 10, 19])
    """

    def __init__(self, hidden_size=64, output_size=19, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.hidden_size = hidden_size
        self.output_size = output_size

    def build(self, slots_shape):
        policy = self.dtype_policy
        # === Layers ===
        self.hidden = keras.layers.Dense(self.hidden_size, activation="relu", name="hidden",
                                         dtype=policy)
        self.out = keras.layers.Dense(self.output_size, name="out", dtype=policy)
        self.hidden.build(slots_shape)
        self.out.build((None, None, self.hidden_size))
        self.built = True

    def call(self, slots):
        logits = self.out(self.hidden(slots))  # [B, K, output_size]
        return tf.sigmoid(tf.cast(logits, tf.float32))  # [B, K, output_size]

    def compute_output_shape(self, slots_shape):
        return (*slots_shape[:-1], self.output_size)

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_size": self.hidden_size, "output_size": self.output_size})
        return config
