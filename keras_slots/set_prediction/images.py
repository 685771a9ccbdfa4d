"""Image preprocessing of the set-prediction task, the same for every CLEVR source.

As the paper's set-prediction pipeline: pixels scaled to [-1, 1], the WHOLE frame (no
crop, unlike object discovery) resized bilinearly to 128x128, then clipped to [-1, 1].
CLEVR v1 frames are 320x480, so objects are squeezed horizontally by 2/3 in the input.
"""

import tensorflow as tf

RESOLUTION = (128, 128)


def scale_pixels(image):
    """uint8 [..., H, W, C] in [0, 255] -> float32 in [-1, 1]: (x / 255 - 0.5) * 2."""
    return (tf.cast(image, tf.float32) / 255.0 - 0.5) * 2.0


def resize_scaled(image, resolution=RESOLUTION):
    """Bilinear resize of a [-1, 1] image [..., H, W, 3], clipped back to [-1, 1].

    Args:
        image: float [H, W, 3] or [B, H, W, 3] in [-1, 1].
        resolution: (height, width) of the result.

    Returns:
        float32 [..., height, width, 3] in [-1, 1].
    """
    resized = tf.image.resize(tf.cast(image, tf.float32), resolution, method="bilinear")
    return tf.clip_by_value(resized, -1.0, 1.0)


def preprocess_image(image, resolution=RESOLUTION):
    """A decoded CLEVR image as model input.

    Args:
        image: uint8 [H, W, C] with C >= 3 (an alpha channel is dropped).
        resolution: (height, width) of the result (paper: 128x128).

    Returns:
        float32 [height, width, 3] in [-1, 1].
    """
    return resize_scaled(scale_pixels(image[..., :3]), resolution)
