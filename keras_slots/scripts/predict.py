"""Runs an exported SavedModel on image files: segmentation PNGs, a mask grid, a JSON summary.

A set-prediction export instead prints each image's predicted objects (real-object score
>= --min_score) and writes predictions.json and <image>_properties.png (the predicted
properties drawn next to the image).

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
_MIN_SCORE = flags.DEFINE_float("min_score", 0.5, "Set prediction: objects printed and "
                                "drawn have at least this real-object score.")



def list_images(paths):
    """Expands folders into their PNG/JPEG files, recursively and in sorted order, as
    training on `images:PATH` does (hidden files and folders are left out); raises
    ValueError for a missing path or a folder without pictures."""
    from keras_slots.data import folder

    files = []
    for path in paths:
        if tf.io.gfile.isdir(path):
            try:
                files += [os.path.join(path, *p.split("/")) for p in folder.list_pictures(path)]
            except folder.DataError as e:
                raise ValueError(str(e)) from None
        elif tf.io.gfile.exists(path):
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return files


def read_image(path):
    """Decodes an image file: uint8 [H, W, C]; ValueError naming the file if it cannot."""
    try:
        return tf.io.decode_image(tf.io.read_file(path), expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as e:
        raise ValueError(f"{path}: cannot read as PNG/JPEG ({e.message.splitlines()[0]})")


def load_image(path, resolution, preprocessing=None):
    """Reads an image file as uint8 [H, W, 3] prepared as in training; prints a note when
    it converts, crops or resizes it."""

    from keras_slots.images import prepare_image

    image = read_image(path)
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
    from keras_slots.config import SET_PREDICTION

    loaded = tf.saved_model.load(_SAVED_MODEL.value)
    metadata = json.loads(loaded.metadata().numpy().decode())
    if metadata.get("task") == SET_PREDICTION:
        return predict_sets(loaded, metadata, files)
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


def predict_sets(loaded, metadata, files):
    """Prints and writes the objects a set-prediction export finds in each image."""
    import numpy as np

    from keras_slots import visualize
    from keras_slots.images import to_rgb
    from keras_slots.set_prediction import drawing, images as sp_images, targets

    inputs = []
    height, width = metadata["resolution"]
    for path in files:  # As in training: the whole frame, bilinear, no crop.
        image, notes = to_rgb(read_image(path))
        if image.shape[:2] != (height, width):
            notes.append(f"resized {image.shape[1]}x{image.shape[0]} to {width}x{height} "
                         f"(the whole frame, bilinear) as in training")
        if notes:
            print(f"note: {path}: {'; '.join(notes)}", file=sys.stderr)
        inputs.append(sp_images.preprocess_image(image, metadata["resolution"]).numpy())
    seed = tf.constant(metadata["serving_seed"], tf.int32)
    preds = np.concatenate([
        loaded.predict_float(np.stack(inputs[start:start + _BATCH_SIZE.value]), seed)["pred"]
        .numpy() for start in range(0, len(inputs), _BATCH_SIZE.value)])  # [N, K, 19]
    tf.io.gfile.makedirs(_OUTPUT_DIR.value)
    summary = []
    for path, image, pred in zip(files, inputs, preds):
        objects = [obj for obj in targets.decode_names(pred)
                   if obj["real_object"] >= _MIN_SCORE.value]
        objects.sort(key=lambda obj: -obj["real_object"])
        print(f"{path}: {len(objects)} objects")
        for obj in objects:
            x, y, z = obj["coords"]
            print(f"  {obj['real_object']:.2f}  {obj['size']} {obj['color']} {obj['material']} "
                  f"{obj['shape']} at ({x:.2f}, {y:.2f}, {z:.2f})")
        summary.append({"file": path, "objects": objects})
        name = os.path.splitext(os.path.basename(path))[0]
        picture = drawing.draw_predictions(image, pred, min_score=_MIN_SCORE.value,
                                           frame_aspect=None)
        visualize.save_png(os.path.join(_OUTPUT_DIR.value, f"{name}_properties.png"), picture)
    with tf.io.gfile.GFile(os.path.join(_OUTPUT_DIR.value, "predictions.json"), "w") as f:
        json.dump({"saved_model": _SAVED_MODEL.value, "metadata": metadata,
                   "min_score": _MIN_SCORE.value, "images": summary}, f, indent=2)
    print(f"wrote predictions.json and {len(files)} *_properties.png to {_OUTPUT_DIR.value}")


if __name__ == "__main__":
    cli.run(main)
