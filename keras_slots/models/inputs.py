"""The image check both models run on their input."""

import tensorflow as tf


def checked_images(images, resolution):
    """`images` as a tensor, after checking it is a batch of RGB images at `resolution`.

    Args:
        images: [B, H, W, 3] images (any array-like).
        resolution: (H, W) the model was built for.

    Returns:
        The images as a tensor [B, H, W, 3].

    Raises:
        ValueError: naming the expected and the actual shape.
    """
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4 or tuple(images.shape[1:]) != (*resolution, 3):
        raise ValueError(f"expected images of shape [B, {resolution[0]}, {resolution[1]}, 3], "
                         f"got {images.shape}")
    return images
