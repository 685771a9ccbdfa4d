"""Spatial broadcast decoder: each slot -> an RGB image and an alpha logit."""

import keras
import tensorflow as tf

from keras_slots.layers.position import SoftPositionEmbed


@keras.saving.register_keras_serializable(package="keras_slots")
class SpatialBroadcastDecoder(keras.layers.Layer):
    """Broadcasts every slot over a grid, adds position embeddings, decodes with convs.

    CLEVR (paper): initial_resolution (8, 8), channels (64,) * 5, strides (2, 2, 2, 2, 1) ->
    128x128. Multi-dSprites / Tetrominoes: broadcast at full resolution, channels (32,) * 3,
    strides (1, 1, 1). A final stride-1 layer with `output_kernel_size` maps to 4 channels
    (RGB + alpha logit), without activation. Transposed convolutions are used throughout;
    with stride 1 and "same" padding they are ordinary convolutions.

    Args:
        initial_resolution: (h, w) of the broadcast grid.
        channels: channels of each hidden (relu) layer.
        strides: stride of each hidden layer (same length as channels).
        kernel_size: kernel size of the hidden layers.
        output_kernel_size: kernel size of the output layer.

    Call arguments:
        slots: [B, K, D] slots.

    Returns:
        [B, K, H, W, 4] per-slot outputs, H = h * prod(strides), W = w * prod(strides).

    Example:
        >>> dec = SpatialBroadcastDecoder((8, 8), (16, 16), (2, 2))
        >>> dec(np.zeros((2, 3, 8), "float32")).shape
        TensorShape([2, 3, 32, 32, 4])
    """

    def __init__(
        self,
        initial_resolution,
        channels,
        strides=None,
        kernel_size=5,
        output_kernel_size=3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        strides = tuple(strides) if strides is not None else (1,) * len(channels)
        if len(strides) != len(channels):
            raise ValueError(f"strides {strides} and channels {channels} differ in length")
        # === Config ===
        self.initial_resolution = tuple(initial_resolution)
        self.channels = tuple(channels)
        self.strides = strides
        self.kernel_size = kernel_size
        self.output_kernel_size = output_kernel_size

    @property
    def output_resolution(self):
        """(H, W) of the decoded images."""
        factor = 1
        for s in self.strides:
            factor *= s
        return (self.initial_resolution[0] * factor, self.initial_resolution[1] * factor)

    def build(self, slots_shape):
        policy = self.dtype_policy
        # === Layers ===
        self.position = SoftPositionEmbed(name="position", dtype=policy)
        # A tuple, not a list: Keras wraps lists in a way tf.train.Checkpoint does not track.
        self.deconvs = tuple(
            keras.layers.Conv2DTranspose(
                c, self.kernel_size, strides=s, padding="same", activation="relu",
                name=f"deconv_{i}", dtype=policy,
            )
            for i, (c, s) in enumerate(zip(self.channels, self.strides))
        )
        self.output_layer = keras.layers.Conv2DTranspose(
            4, self.output_kernel_size, padding="same", name="output", dtype=policy
        )
        shape = (None, *self.initial_resolution, slots_shape[-1])
        self.position.build(shape)
        for layer in self.deconvs + (self.output_layer,):
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, slots):
        batch, num_slots = tf.shape(slots)[0], tf.shape(slots)[1]
        height, width = self.initial_resolution
        x = tf.reshape(slots, [batch * num_slots, 1, 1, slots.shape[-1]])  # [BK, 1, 1, D]
        x = tf.tile(x, [1, height, width, 1])  # [BK, h, w, D]
        x = self.position(x)
        for layer in self.deconvs:
            x = layer(x)  # [BK, h', w', C]
        x = self.output_layer(x)  # [BK, H, W, 4]
        out_h, out_w = self.output_resolution
        return tf.reshape(x, [batch, num_slots, out_h, out_w, 4])  # [B, K, H, W, 4]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "initial_resolution": self.initial_resolution,
                "channels": self.channels,
                "strides": self.strides,
                "kernel_size": self.kernel_size,
                "output_kernel_size": self.output_kernel_size,
            }
        )
        return config
