"""Draws a grid of scenes and their coloured ground-truth masks for each built-in dataset.

Example:
    python scripts/show_datasets.py --output_dir=docs/datasets
"""

import os

from absl import app, flags
import tensorflow as tf

from keras_slots import cli

_OUTPUT_DIR = flags.DEFINE_string("output_dir", "docs/datasets", "Where the PNGs go.")
_DATASETS = flags.DEFINE_list("datasets", None, "Built-in datasets (default: all).")
_NUM_SCENES = flags.DEFINE_integer("num_scenes", 6, "Scenes per picture.")
_SEED = flags.DEFINE_integer("seed", 0, "Stream seed.")


def dataset_grid(elements, gap=2):
    """Two rows: images, then masks coloured by entity (background black).

    Args:
        elements: list of model-ready elements (numpy).
        gap: white pixels between panels.

    Returns:
        uint8 [2 * (H + gap), n * (W + gap), 3] picture.
    """
    import numpy as np

    from keras_slots import images as images_lib
    from keras_slots import visualize

    images = np.stack([images_lib.to_uint8(e["image"]) for e in elements])  # [n, H, W, 3]
    ids = np.stack([np.argmax(e["mask"][..., 0], axis=0) for e in elements])  # [n, H, W]
    palette = np.concatenate([[[0, 0, 0]], visualize.PALETTE]).astype(np.uint8)
    masks = palette[ids % len(palette)]  # [n, H, W, 3]
    panels = np.stack([images, masks])  # [2, n, H, W, 3]
    panels = np.pad(panels, [(0, 0), (0, 0), (0, gap), (0, gap), (0, 0)], constant_values=255)
    rows, n, h, w, _ = panels.shape
    return panels.transpose(0, 2, 1, 3, 4).reshape(rows * h, n * w, 3)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from keras_slots import data, visualize

    builtin = [name for name, info in data.DATASETS.items() if info.generate]
    names = _DATASETS.value or builtin
    unknown = sorted(set(names) - set(builtin))
    if unknown:
        raise app.UsageError(f"no built-in generator for {unknown}; choose from {builtin}")
    tf.io.gfile.makedirs(_OUTPUT_DIR.value)
    for name in names:
        split = data.DATASETS[name].splits[0]  # "train", or "test" for a test set.
        ds = data.get_dataset(name, split, seed=_SEED.value, num_examples=_NUM_SCENES.value)
        grid = dataset_grid(list(ds.as_numpy_iterator()))
        scale = max(1, 384 // grid.shape[0])
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
        path = os.path.join(_OUTPUT_DIR.value, f"{name}.png")
        visualize.save_png(path, grid)
        print(f"wrote {path}")


if __name__ == "__main__":
    cli.run(main)
