"""Spatial broadcast decoder: each slot -> an RGB image and an alpha logit."""

import keras
import numpy as np
import tensorflow as tf

from keras_slots.layers.position import SoftPositionEmbed, layer_strides


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
        position_scale: scale of the position grid (paper: 1; see SoftPositionEmbed).
        fourier_bands: periodic position features (paper: 0; see SoftPositionEmbed).

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
        position_scale=1.0,
        fourier_bands=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        strides = layer_strides(channels, strides)
        # === Config ===
        self.initial_resolution = tuple(initial_resolution)
        self.channels = tuple(channels)
        self.strides = strides
        self.kernel_size = kernel_size
        self.output_kernel_size = output_kernel_size
        self.position_scale = position_scale
        self.fourier_bands = fourier_bands

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
        self.position = SoftPositionEmbed(self.position_scale, self.fourier_bands, name="position", dtype=policy)
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
        flat = tf.reshape(slots, [batch * num_slots, slots.shape[-1]])  # [BK, D]
        if self.strides[0] == 1:
            x = self.first_layer_in_closed_form(flat)  # [BK, h, w, C]
        else:
            x = self.deconvs[0](self.broadcast(flat))  # [BK, h', w', C]
        for layer in self.deconvs[1:]:
            x = layer(x)  # [BK, h', w', C]
        x = self.output_layer(x)  # [BK, H, W, 4]
        out_h, out_w = self.output_resolution
        return tf.reshape(x, [batch, num_slots, out_h, out_w, 4])  # [B, K, H, W, 4]

    def broadcast(self, flat_slots):
        """Tiles each slot over the initial grid and adds the position embedding.

        Args:
            flat_slots: [BK, D] slots.

        Returns:
            [BK, h, w, D] input of the first layer.
        """
        height, width = self.initial_resolution
        x = flat_slots[:, None, None, :]  # [BK, 1, 1, D]
        return self.position(tf.tile(x, [1, height, width, 1]))  # [BK, h, w, D]

    def first_layer_in_closed_form(self, flat_slots):
        """The first (stride-1) layer applied to `broadcast(flat_slots)`, ~25x cheaper.

        The broadcast input is a constant slot s plus a position term P shared by all slots,
        so conv(s + P) = s . A + conv(P), where A[y, x] sums the kernel taps that fall inside
        the grid at (y, x) (all taps in the interior, fewer at the borders). This is the same
        function as the layer on the broadcast grid (tested), computed with one [D, C] product
        per pixel instead of a k x k convolution per slot.

        Args:
            flat_slots: [BK, D] slots.

        Returns:
            [BK, h, w, C] output of the first layer (after its relu).
        """
        layer = self.deconvs[0]
        kernel = tf.cast(layer.kernel, self.compute_dtype)  # [kh, kw, C, D]
        rows, cols = self._valid_taps  # [h, kh], [w, kw]
        taps = tf.einsum("yi,ijcd->yjdc", tf.cast(rows, kernel.dtype), kernel)  # [h, kw, D, C]
        summed = tf.einsum("xj,yjdc->yxdc", tf.cast(cols, kernel.dtype), taps)  # [h, w, D, C]
        zeros = tf.zeros([1, *self.initial_resolution, flat_slots.shape[-1]], self.compute_dtype)
        position = keras.ops.conv_transpose(
            self.position(zeros), kernel, strides=1, padding="same")  # [1, h, w, C]
        x = tf.einsum("nd,yxdc->nyxc", tf.cast(flat_slots, kernel.dtype), summed)  # [BK, h, w, C]
        x = x + position + tf.cast(layer.bias, kernel.dtype)
        return tf.nn.relu(x)

    @property
    def _valid_taps(self):
        """0/1 [h, kh] and [w, kw]: kernel tap i lands inside the grid at row (column) y."""
        k, pad = self.kernel_size, (self.kernel_size - 1) // 2
        masks = []
        for size in self.initial_resolution:
            y, i = np.arange(size)[:, None], np.arange(k)[None, :]
            masks.append(((y + pad - i >= 0) & (y + pad - i < size)).astype(np.float32))
        return masks

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "initial_resolution": self.initial_resolution,
                "channels": self.channels,
                "strides": self.strides,
                "kernel_size": self.kernel_size,
                "output_kernel_size": self.output_kernel_size,
                "position_scale": self.position_scale,
                "fourier_bands": self.fourier_bands,
            }
        )
        return config
