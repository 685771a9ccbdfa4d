"""Set-prediction examples from the built-in CLEVR renderer, so the task trains offline.

The renderer (`keras_slots.data.clevr`) writes scenes in the clevr_with_masks layout:
entity 0 is the background, entities 1..n are objects with float "x", "y", "z" (original
units, z = half-height as in CLEVR) and uint8 codes "size", "material", "shape", "color"
(0 = none, i = entry i - 1 of the renderer's tables, whose orders differ from TFDS's).
Here the codes are mapped by class name to the TFDS `clevr:3.1.0` orders of
`targets.PROPERTIES`, and the 240x320 frame is preprocessed as real CLEVR (whole frame,
bilinear to 128x128), so examples look like those of `clevr_tfds.load`.
"""

import numpy as np
import tensorflow as tf

from keras_slots.data import clevr, pipeline
from keras_slots.set_prediction import images, targets

DATASET_NAME = "clevr_with_masks"
RENDERER_TABLES = {"size": clevr.SIZES, "material": clevr.MATERIALS, "shape": clevr.SHAPES,
                   "color": clevr.COLORS}


def code_to_class_index(prop):
    """int32 numpy [len(table) + 1]: renderer code -> TFDS class index (-1 for code 0)."""
    return np.array([-1] + [targets.class_index(prop, name) for name in RENDERER_TABLES[prop]],
                    np.int32)


def scene_targets(scene, max_objects=targets.MAX_OBJECTS):
    """The target set of one rendered scene (TF ops; works in tf.data and eagerly).

    Args:
        scene: dict with "x", "y", "z" float [K] and uint8 codes "size", "material",
            "shape", "color" [K] (entity 0 = background), as `clevr.generate_scene` or
            `pipeline.get_dataset("clevr_with_masks")` gives them.
        max_objects: rows of the result.

    Returns:
        float32 [max_objects, 19]: the objects in entity order, then zero rows.
    """
    present = tf.convert_to_tensor(scene["shape"])[1:] > 0  # [K-1]
    coords = tf.stack([tf.cast(scene[axis], tf.float32)[1:] for axis in "xyz"], axis=-1)
    labels = {}
    for prop in RENDERER_TABLES:
        codes = tf.cast(tf.boolean_mask(tf.convert_to_tensor(scene[prop])[1:], present),
                        tf.int32)  # [n]
        labels[prop] = tf.gather(code_to_class_index(prop), codes)  # [n]
    return targets.encode(tf.boolean_mask(coords, present), labels["size"],
                          labels["material"], labels["shape"], labels["color"], max_objects)


def to_example(element, resolution=images.RESOLUTION, max_objects=targets.MAX_OBJECTS):
    """A model-ready element of `pipeline.get_dataset("clevr_with_masks")` as a
    set-prediction example.

    Args:
        element: dict with "image" float [240, 320, 3] in [-1, 1] and the scene attributes.
        resolution: image size (paper: 128x128).
        max_objects: rows of the target.

    Returns:
        dict: "image" float32 [H, W, 3] in [-1, 1], "target" float32 [max_objects, 19].
    """
    return {"image": images.resize_scaled(element["image"], resolution),
            "target": scene_targets(element, max_objects)}


def load(split="train", *, seed=0, num_examples=None, start_index=0,
         resolution=images.RESOLUTION):
    """Rendered CLEVR scenes (3-10 objects) as set-prediction examples.

    Args:
        split: "train" (an infinite stream by default) or "test" (320 scenes by default).
        seed: seed of the rendered stream.
        num_examples: number of scenes (None: the split's default).
        start_index: index of the first scene, to resume a stream.
        resolution: image size (paper: 128x128).

    Returns:
        Unbatched tf.data.Dataset of {"image": float32 [H, W, 3] in [-1, 1], "target":
        float32 [10, 19]}.
    """
    scenes = pipeline.get_dataset(DATASET_NAME, split, seed=seed, num_examples=num_examples,
                                  start_index=start_index)
    return scenes.map(lambda element: to_example(element, resolution),
                      num_parallel_calls=tf.data.AUTOTUNE)
