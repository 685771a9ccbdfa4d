"""Model-ready elements: a raw scene with its image scaled to [-1, 1] and its objects counted.

A raw scene is a dict of arrays as a published record decodes: "image" uint8 [H, W, 3],
"mask" uint8 [K, H, W, 1] 0/255 with the first masks the background, and per-object
attributes [K, ...].
"""

import tensorflow as tf

from keras_slots import images


def to_model_ready(raw, num_background=1):
    """Turns a raw scene (or a batch of them) into a model-ready element.

    Works on numpy arrays or tensors, with or without leading batch axes, so it can be
    used inside `tf.data.Dataset.map`.

    Args:
        raw: dict with "image" uint8 [..., H, W, 3], "mask" uint8 [..., K, H, W, 1]
            (the first `num_background` masks are background) and any per-object
            attributes.
        num_background: leading masks that are background, not objects.

    Returns:
        dict of tensors: "image" float32 [..., H, W, 3] in [-1, 1], "num_objects" int32 [...]
        (entities after the background ones with a non-empty mask), the other keys unchanged.
    """
    element = {key: tf.convert_to_tensor(value) for key, value in raw.items()}
    element["image"] = images.to_model_range(element["image"])  # [..., H, W, 3]
    foreground = element["mask"][..., num_background:, :, :, :]  # [..., K-b, H, W, 1]
    present = tf.reduce_any(foreground > 0, axis=[-3, -2, -1])  # [..., K-b]
    element["num_objects"] = tf.reduce_sum(tf.cast(present, tf.int32), axis=-1)  # [...]
    return element
