"""Image scaling between stored pixels (uint8, 0..255) and model images (float, [-1, 1])."""

import numpy as np
import tensorflow as tf


def to_model_range(images):
    """Scales stored pixels to the model's range: 0 -> -1, 255 -> 1.

    Works on numpy arrays and tensors, inside `tf.data` maps and `tf.function`s too.

    Args:
        images: uint8 (or float in [0, 255]) [..., H, W, C].

    Returns:
        float32 tensor [..., H, W, C] in [-1, 1].
    """
    return tf.cast(images, tf.float32) / 127.5 - 1.0  # [..., H, W, C]


def to_uint8(images):
    """Scales model images back to pixels: -1 -> 0, 1 -> 255, rounded, clipped.

    NaN (a diverged model) becomes 128, the middle grey.

    Args:
        images: float [..., H, W, C] in [-1, 1], numpy or tensor.

    Returns:
        uint8 numpy array [..., H, W, C].
    """
    images = np.nan_to_num(np.asarray(images, np.float32))  # [..., H, W, C], NaN -> 0
    return np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
