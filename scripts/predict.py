"""Runs an exported SavedModel on image files: segmentation PNGs, a mask grid, a JSON summary.

Example:
    python scripts/predict.py --saved_model=saved_models/tetrominoes --images=photos/ \
        --output_dir=predictions
"""

import json
import os
import sys

from absl import app, flags
import tensorflow as tf

from keras_slots import cli

_SAVED_MODEL = flags.DEFINE_string("saved_model", None, "SavedModel folder (scripts/export.py).",
                                   required=True)
_IMAGES = flags.DEFINE_list("images", None, "Image files (PNG/JPEG) and/or folders of them.",
                            required=True)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "predictions", "Where results go.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Images per model call.")

EXTENSIONS = (".png", ".jpg", ".jpeg")


def list_images(paths):
    """Expands folders into their PNG/JPEG files; raises ValueError for a missing path."""
    files = []
    for path in paths:
        if tf.io.gfile.isdir(path):
            found = sorted(p for p in tf.io.gfile.glob(os.path.join(path, "*"))
                           if p.lower().endswith(EXTENSIONS))
            if not found:
                raise ValueError(f"{path} holds no PNG or JPEG images")
            files += found
        elif tf.io.gfile.exists(path):
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return files


def load_image(path, resolution, preprocessing=None):
    """Reads an image file as uint8 [H, W, 3] prepared as in training; prints a note when
    it converts, crops or resizes it."""

    from keras_slots.export import prepare_image

    try:
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as e:
        raise ValueError(f"{path}: cannot read as PNG/JPEG ({e.message.splitlines()[0]})")
    try:
        image, notes = prepare_image(image, resolution, preprocessing)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    if notes:
        print(f"note: {path}: {'; '.join(notes)}", file=sys.stderr)
    return image


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    cli.require_at_least_one(_BATCH_SIZE)
    files = list_images(_IMAGES.value)
    if not tf.io.gfile.isdir(_SAVED_MODEL.value):
        raise ValueError(f"--saved_model {_SAVED_MODEL.value} is not a folder")
    import numpy as np

    from keras_slots import images as images_lib
    from keras_slots import visualize

    loaded = tf.saved_model.load(_SAVED_MODEL.value)
    metadata = json.loads(loaded.metadata().numpy().decode())
    preprocessing = metadata.get("preprocessing")  # None for exports made before it
    images = np.stack([load_image(f, metadata["resolution"], preprocessing)
                       for f in files])  # [B, H, W, 3]
    outputs = {}
    for start in range(0, len(images), _BATCH_SIZE.value):
        out = loaded.serving_default(images[start:start + _BATCH_SIZE.value])
        for key, value in out.items():
            outputs.setdefault(key, []).append(value.numpy())
    outputs = {key: np.concatenate(value) for key, value in outputs.items()}
    tf.io.gfile.makedirs(_OUTPUT_DIR.value)
    summary = []
    for i, path in enumerate(files):
        seg = outputs["segmentation"][i]  # [H, W]
        name = os.path.splitext(os.path.basename(path))[0]
        visualize.save_png(os.path.join(_OUTPUT_DIR.value, f"{name}_segmentation.png"),
                           visualize.PALETTE[seg % len(visualize.PALETTE)])
        counts = np.bincount(seg.ravel(), minlength=outputs["masks"].shape[1])
        summary.append({"file": path, "slot_pixel_fraction": (counts / seg.size).tolist(),
                        "slots_used": int(np.sum(counts > 0))})
    float_images = images_lib.to_model_range(images).numpy()  # [B, H, W, 3] in [-1, 1]
    grid = visualize.slot_grid(float_images, outputs, max_images=len(files), scale=4)
    visualize.save_png(os.path.join(_OUTPUT_DIR.value, "masks.png"), grid)
    with tf.io.gfile.GFile(os.path.join(_OUTPUT_DIR.value, "summary.json"), "w") as f:
        json.dump({"saved_model": _SAVED_MODEL.value, "metadata": metadata,
                   "images": summary}, f, indent=2)
    print(f"wrote {len(files)} segmentations, masks.png and summary.json to "
          f"{_OUTPUT_DIR.value}")


if __name__ == "__main__":
    cli.run(main)
