"""Slot MLP: the paper's baseline that replaces Slot Attention by an MLP on the feature map."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_slots")
class SlotMLP(keras.layers.Layer):
    """Maps the encoder's feature map, resized and flattened, to K ordered slot vectors.

    The feature set [B, N, C] is laid back out as its [B, H, W, C] grid, resized
    (bilinearly, with antialiasing) to `grid_size`, flattened, so every input unit is tied
    to a position, and mapped by an MLP (LayerNorm, two ReLU hidden layers) to K * D
    numbers. Unlike Slot Attention it is not permutation-equivariant in the slots, has no
    iterations and no attention: it returns the slots alone.

    Args:
        num_slots: number of slots K (fixed: the output layer has K * D units).
        slot_size: slot dimension D.
        mlp_hidden_size: units of each of the two hidden layers.
        feature_resolution: (H, W) of the encoder's feature grid (N = H * W).
        grid_size: (h, w) the feature map is resized to before flattening.

    Call arguments:
        inputs: [B, N, C] features in row-major grid order.
        num_slots: optional int; must equal `num_slots` (the output layer fixes K).
        seed, noise: the slot noise arguments of a slot module; Slot MLP draws no noise and
            ignores them.

    Returns:
        slots [B, K, D].

    Example:
        >>> layer = SlotMLP(4, 16, feature_resolution=(5, 2), grid_size=(2, 2))
        >>> layer(np.zeros((2, 10, 8), "float32")).shape
        TensorShape([2, 4, 16])
    """

    def __init__(self, num_slots, slot_size=64, mlp_hidden_size=128,
                 feature_resolution=(35, 35), grid_size=(8, 8), **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.num_slots = num_slots
        self.slot_size = slot_size
        self.mlp_hidden_size = mlp_hidden_size
        self.feature_resolution = tuple(feature_resolution)
        self.grid_size = tuple(grid_size)

    def build(self, inputs_shape):
        policy = self.dtype_policy
        flat = self.grid_size[0] * self.grid_size[1] * inputs_shape[-1]
        # === Layers ===
        self.norm = keras.layers.LayerNormalization(name="norm", dtype=policy)
        # A tuple, not a list: Keras wraps lists in a way tf.train.Checkpoint does not track.
        self.hidden = tuple(
            keras.layers.Dense(self.mlp_hidden_size, activation="relu", name=f"hidden_{i}",
                               dtype=policy)
            for i in range(2)
        )
        self.out = keras.layers.Dense(self.num_slots * self.slot_size, name="out", dtype=policy)
        self.norm.build((None, flat))
        self.hidden[0].build((None, flat))
        self.hidden[1].build((None, self.mlp_hidden_size))
        self.out.build((None, self.mlp_hidden_size))
        self.built = True

    def call(self, inputs, num_slots=None, seed=None, noise=None, training=None):
        if num_slots not in (None, self.num_slots):
            raise ValueError(f"Slot MLP was built for {self.num_slots} slots, got {num_slots}")
        height, width = self.feature_resolution
        channels = inputs.shape[-1]
        grid = tf.reshape(inputs, [-1, height, width, channels])  # [B, H, W, C]
        grid = tf.image.resize(tf.cast(grid, tf.float32), self.grid_size, method="bilinear",
                               antialias=True)  # [B, h, w, C]
        flat = tf.reshape(grid, [-1, self.grid_size[0] * self.grid_size[1] * channels])
        x = self.norm(tf.cast(flat, self.compute_dtype))  # [B, h * w * C]
        for layer in self.hidden:
            x = layer(x)  # [B, hidden]
        return tf.reshape(self.out(x), [-1, self.num_slots, self.slot_size])  # [B, K, D]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_slots": self.num_slots,
                "slot_size": self.slot_size,
                "mlp_hidden_size": self.mlp_hidden_size,
                "feature_resolution": self.feature_resolution,
                "grid_size": self.grid_size,
            }
        )
        return config
