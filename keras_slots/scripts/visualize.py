"""Detailed pictures of a trained model: per-image panels and training curves.

For a run directory (checkpoint) or an exported SavedModel, writes one PNG per test image:
input, reconstruction, segmentation overlay, each slot's mask and masked reconstruction, and
the attention maps of every iteration; for a run directory also training_curves.png from its
TensorBoard logs.

Example:
    python scripts/visualize.py --model_dir=runs/tetrominoes --output_dir=runs/tetrominoes/viz
"""

import os

from absl import app, flags

from keras_slots import cli

_MODEL_DIR = flags.DEFINE_string("model_dir", None, "Run directory written by train.py.")
_SAVED_MODEL = flags.DEFINE_string("saved_model", None, "Or: a SavedModel from export.py.")
_DATASET = flags.DEFINE_string("dataset", None, "Dataset, or images:PATH for a folder of "
                               "pictures (default: the trained one).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Folder of published files; unset: built-in.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 4, "Test images to draw.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the slot noise.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where PNGs go (default: <dir>/viz).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if (_MODEL_DIR.value is None) == (_SAVED_MODEL.value is None):
        raise app.UsageError("pass exactly one of --model_dir and --saved_model")
    cli.require_at_least_one(_NUM_IMAGES)
    import json

    import tensorflow as tf

    from keras_slots import data, visualize
    from keras_slots.training import checkpoints

    source = _MODEL_DIR.value or _SAVED_MODEL.value
    out_dir = _OUTPUT_DIR.value or os.path.join(source, "viz")
    if _MODEL_DIR.value:
        model, config, _ = checkpoints.restore_model(_MODEL_DIR.value)
        dataset_name, seed = config.train.dataset, config.train.seed
        resolution = config.model.resolution
        run = lambda x: model(x, seed=tf.constant([_SEED.value, 0]))  # noqa: E731
    else:
        loaded = tf.saved_model.load(_SAVED_MODEL.value)
        config = json.loads(loaded.metadata().numpy().decode())["config"]
        dataset_name, seed = config["train"]["dataset"], config["train"]["seed"]
        resolution = config["model"]["resolution"]
        run = lambda x: loaded.predict_float(x, tf.constant([_SEED.value, 0]))  # noqa: E731
    try:  # An image folder is read at the model's size, with the run's crop rule.
        dataset_name = data.folder.complete(_DATASET.value or dataset_name, resolution)
    except data.DataError as e:
        raise app.UsageError(str(e))
    dataset = data.get_dataset(dataset_name, "test", data_dir=_DATA_DIR.value,
                               seed=seed, num_examples=_NUM_IMAGES.value)
    batch = next(iter(dataset.batch(_NUM_IMAGES.value)))["image"]
    outputs = {k: v.numpy() for k, v in run(batch).items()}
    tf.io.gfile.makedirs(out_dir)
    for i in range(len(batch)):
        path = os.path.join(out_dir, f"image_{i}.png")
        visualize.save_png(path, visualize.image_report(batch[i].numpy(), outputs, index=i))
    print(f"wrote {len(batch)} image reports to {out_dir}")
    if _MODEL_DIR.value:
        series = visualize.read_scalars(os.path.join(_MODEL_DIR.value, "train"))
        if series:
            visualize.plot_curves(series, os.path.join(out_dir, "training_curves.png"))
            print(f"wrote {out_dir}/training_curves.png")


if __name__ == "__main__":
    cli.run(main)
