"""CLEVR v1 read from its download layout (CLEVR_v1.0.zip unpacked), without TFDS.

    <root>/images/<split>/CLEVR_<split>_000000.png ...   320x480 RGBA PNG images
    <root>/scenes/CLEVR_<split>_scenes.json              {"scenes": [{"image_filename",
        "objects": [{"3d_coords", "size", "material", "shape", "color", ...}], ...}]}

Splits are "train", "val" and "test"; the test split has no scenes file, so it cannot be
read with targets. Scenes keep the JSON order; those with more than 10 objects are
dropped (CLEVR has none); images are preprocessed as every set-prediction source
(`images.preprocess_image`) and objects encoded with `targets.encode_named`, so elements
equal those of `clevr_tfds.load` for the same scene.
"""

import json
import posixpath

import numpy as np
import tensorflow as tf

from keras_slots.set_prediction import images, targets


class ClevrFilesError(ValueError):
    """Raised when a folder does not hold the CLEVR v1 download layout."""


def scenes_path(root, split):
    """Path of the scene annotations of a split: <root>/scenes/CLEVR_<split>_scenes.json."""
    return posixpath.join(root, "scenes", f"CLEVR_{split}_scenes.json")


def read_scenes(root, split, max_objects=targets.MAX_OBJECTS):
    """Reads the image paths and targets of a split (host side, numpy).

    Args:
        root: the CLEVR_v1.0 folder (local or any tf.io.gfile file system).
        split: "train", "val" or "test".
        max_objects: scenes with more objects are dropped; rows of each target.

    Returns:
        (paths: list of S image paths, targets: float32 numpy [S, max_objects, 19]).
    """
    path = scenes_path(root, split)
    if not tf.io.gfile.exists(path):
        raise ClevrFilesError(f"no scene annotations at {path} (is {root} the CLEVR_v1.0 "
                              "folder? the test split has none)")
    with tf.io.gfile.GFile(path) as f:
        scenes = json.load(f)["scenes"]
    image_dir = posixpath.join(root, "images", split)
    present = set(tf.io.gfile.listdir(image_dir)) if tf.io.gfile.isdir(image_dir) else set()
    kept = [scene for scene in scenes if len(scene["objects"]) <= max_objects]
    missing = [scene["image_filename"] for scene in kept
               if scene["image_filename"] not in present]
    if missing:
        raise ClevrFilesError(f"{len(missing)} images of {path} are missing from {image_dir}, "
                              f"e.g. {missing[0]}")
    paths = [posixpath.join(image_dir, scene["image_filename"]) for scene in kept]
    rows = np.zeros((len(kept), max_objects, targets.ELEMENT_SIZE), np.float32)
    for i, scene in enumerate(kept):
        rows[i] = targets.encode_named(scene["objects"], max_objects)
    return paths, rows


def load(root, split="train", *, resolution=images.RESOLUTION,
         max_objects=targets.MAX_OBJECTS):
    """Reads a split of CLEVR v1 from its download layout.

    Args:
        root: the CLEVR_v1.0 folder holding images/ and scenes/.
        split: "train" or "val" (the test split has no targets).
        resolution: image size (paper: 128x128).
        max_objects: scenes with more objects are dropped; rows of each target.

    Returns:
        Unbatched tf.data.Dataset of {"image": float32 [H, W, 3] in [-1, 1], "target":
        float32 [max_objects, 19]}, in the order of the scenes file.
    """
    paths, rows = read_scenes(root, split, max_objects)

    def to_example(path, target):
        image = tf.io.decode_png(tf.io.read_file(path), channels=3)  # [H, W, 3] uint8
        return {"image": images.preprocess_image(image, resolution), "target": target}

    dataset = tf.data.Dataset.from_tensor_slices((paths, rows))
    return dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE)
