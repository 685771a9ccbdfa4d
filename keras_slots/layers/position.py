"""Soft position embedding (paper appendix: "soft position embedding") and conv-grid helpers."""

import keras
import numpy as np
import tensorflow as tf


def layer_strides(channels, strides):
    """The strides of a conv stack: `strides` as a tuple, all 1 when None.

    Raises:
        ValueError: when strides and channels differ in length.
    """
    strides = tuple(strides) if strides is not None else (1,) * len(channels)
    if len(strides) != len(channels):
        raise ValueError(f"strides {strides} and channels {channels} differ in length")
    return strides


def fourier_features(grid, bands):
    """Appends sines and cosines of the (y, x) grid at octave frequencies.

    Args:
        grid: float32 [..., 4] grid of `build_grid`.
        bands: number of frequencies; band k adds sin and cos of pi * 2^k * (y, x).

    Returns:
        float32 [..., 4 + 4 * bands]: the grid, then the features of bands 0 .. bands - 1.
    """
    features = [grid]
    for k in range(bands):
        angle = np.pi * 2.0 ** k * grid[..., :2]  # [..., 2]
        features += [np.sin(angle), np.cos(angle)]
    return np.concatenate(features, axis=-1).astype(np.float32)


def build_grid(height, width):
    """Returns the 4-channel position grid of a feature map.

    Args:
        height: rows of the feature map.
        width: columns of the feature map.

    Returns:
        float32 numpy array [1, height, width, 4]: (y, x, 1 - y, 1 - x), each in linspace[0, 1].
    """
    ys = np.linspace(0.0, 1.0, num=height, dtype=np.float32)
    xs = np.linspace(0.0, 1.0, num=width, dtype=np.float32)
    grid = np.stack(np.meshgrid(ys, xs, indexing="ij"), axis=-1)  # [H, W, 2]
    grid = np.concatenate([grid, 1.0 - grid], axis=-1)  # [H, W, 4]
    return grid[None]  # [1, H, W, 4]


@keras.saving.register_keras_serializable(package="keras_slots")
class SoftPositionEmbed(keras.layers.Layer):
    """Adds a learned linear map of the (y, x, 1-y, 1-x) grid to a feature map.

    The grid follows the input's height and width, so one layer serves any resolution it was
    built for; the projection has as many units as the input has channels.

    Args:
        scale: multiplies the grid before the projection (paper: 1). A larger scale gives the
            embedding steeper slopes at the same weights, so a decoder can draw sharp edges
            without first growing its weights.
        fourier_bands: also project sin and cos of pi * 2^k * (y, x) for k < fourier_bands
            (paper: 0, the linear grid only). Periodic features let a broadcast decoder draw
            object outlines before its convolutions learn to.

    Call arguments:
        inputs: [B, H, W, C] feature map.

    Returns:
        [B, H, W, C]: inputs + Dense(C)(grid).

    Example:
        >>> SoftPositionEmbed()(np.zeros((2, 8, 8, 16), "float32")).shape
        TensorShape([2, 8, 8, 16])
    """

    def __init__(self, scale=1.0, fourier_bands=0, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.scale = scale
        self.fourier_bands = fourier_bands

    def build(self, inputs_shape):
        _, height, width, channels = inputs_shape
        # === Layers ===
        self.dense = keras.layers.Dense(channels, name="dense", dtype=self.dtype_policy)
        grid = fourier_features(build_grid(height, width), self.fourier_bands)
        self.grid = grid * self.scale  # [1, H, W, 4 + 4 * fourier_bands]
        self.dense.build((None, height, width, self.grid.shape[-1]))
        self.built = True

    def call(self, inputs):
        grid = tf.constant(self.grid, dtype=self.compute_dtype)  # [1, H, W, G]
        return inputs + self.dense(grid)  # [B, H, W, C]

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config["scale"] = self.scale
        config["fourier_bands"] = self.fourier_bands
        return config
