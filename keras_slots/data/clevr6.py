"""CLEVR6 as in the paper: scenes with <= 6 objects, cropped and resized to 128x128."""

import tensorflow as tf

# CLEVR6 (paper): scenes with at most 6 objects, crop rows 29:221 and cols 64:256 of the
# 240x320 frame, resize to 128x128.
MAX_OBJECTS = 6
CROP = ((29, 221), (64, 256))
RESOLUTION = (128, 128)


def at_most_six_objects(scene):
    """True when at most MAX_OBJECTS non-background masks are non-empty."""
    present = tf.reduce_any(scene["mask"][1:] > 0, axis=[1, 2, 3])  # [K-1]
    return tf.reduce_sum(tf.cast(present, tf.int32)) <= MAX_OBJECTS


def crop_and_resize(scene):
    """Crops the 240x320 CLEVR frame to 192x192 and resizes it to 128x128."""
    (top, bottom), (left, right) = CROP
    scene = dict(scene)
    image = tf.cast(scene["image"][top:bottom, left:right], tf.float32)  # [192, 192, 3]
    scene["image"] = tf.image.resize(image, RESOLUTION,
                                     method="bilinear")  # [128, 128, 3] in [0, 255]
    mask = scene["mask"][:, top:bottom, left:right]  # [K, 192, 192, 1]
    scene["mask"] = tf.image.resize(mask, RESOLUTION,
                                    method="nearest")  # [K, 128, 128, 1] uint8
    return scene
