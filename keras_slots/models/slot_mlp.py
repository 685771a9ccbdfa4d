"""Slot MLP: the paper's baseline that replaces Slot Attention by an MLP on pooled features."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_slots")
class SlotMLP(keras.layers.Layer):
    """Maps the mean of the encoder features to K slot vectors with an MLP.

    It has the call signature of SlotAttention, so the autoencoder can use either; it is not
    permutation-equivariant in the slots and has no iterations (attn is uniform, for shape
    compatibility only).

    Args:
        num_slots: number of slots K (fixed: the output layer has K * D units).
        slot_size: slot dimension D.
        mlp_hidden_size: hidden units of the two hidden layers.

    Call arguments:
        inputs: [B, N, C] features. num_slots / num_iterations / seed / noise are accepted for
        signature compatibility; num_slots must equal the trained value.

    Returns:
        (slots [B, K, D], attn [B, 1, K, N] uniform).

    Example:
        >>> slots, _ = SlotMLP(4, 16)(np.zeros((2, 10, 8), "float32"))
        >>> slots.shape
        TensorShape([2, 4, 16])
    """

    def __init__(self, num_slots, slot_size=64, mlp_hidden_size=128, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.num_slots = num_slots
        self.slot_size = slot_size
        self.mlp_hidden_size = mlp_hidden_size

    def build(self, inputs_shape):
        policy = self.dtype_policy
        # === Layers ===
        self.norm = keras.layers.LayerNormalization(name="norm", dtype=policy)
        # A tuple, not a list: Keras wraps lists in a way tf.train.Checkpoint does not track.
        self.hidden = tuple(
            keras.layers.Dense(self.mlp_hidden_size, activation="relu", name=f"hidden_{i}",
                               dtype=policy)
            for i in range(2)
        )
        self.out = keras.layers.Dense(self.num_slots * self.slot_size, name="out", dtype=policy)
        self.norm.build((None, inputs_shape[-1]))
        self.hidden[0].build((None, inputs_shape[-1]))
        self.hidden[1].build((None, self.mlp_hidden_size))
        self.out.build((None, self.mlp_hidden_size))
        self.built = True

    def call(self, inputs, num_slots=None, num_iterations=None, seed=None, noise=None,
             training=None):
        if num_slots not in (None, self.num_slots):
            raise ValueError(f"Slot MLP was built for {self.num_slots} slots, got {num_slots}")
        x = self.norm(tf.reduce_mean(inputs, axis=1))  # [B, C]
        for layer in self.hidden:
            x = layer(x)  # [B, hidden]
        slots = tf.reshape(self.out(x), [-1, self.num_slots, self.slot_size])  # [B, K, D]
        n = tf.shape(inputs)[1]
        attn = tf.ones(tf.stack([tf.shape(inputs)[0], 1, self.num_slots, n]), tf.float32)
        return slots, attn / float(self.num_slots)  # [B, K, D], [B, 1, K, N]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_slots": self.num_slots,
                "slot_size": self.slot_size,
                "mlp_hidden_size": self.mlp_hidden_size,
            }
        )
        return config
