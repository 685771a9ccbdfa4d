r"""Writes a built-in dataset as a file in the published DeepMind TFRecord layout.

Record i of the file is scene i of the built-in "train" stream for i < train_size, then
scene i - train_size of the "test" stream, so that keras_slots.data.get_dataset(name,
split, data_dir=out_dir) reads the same scenes as the built-in stream of that split.
Objects Room test variants hold only "test" scenes. When the split sizes are not the
paper's (60k or 70k train records, then 320 test records), they are written beside the file
as `<file>.splits.json`, which the reader uses instead of the paper's sizes:
`--num_examples=1000` writes 680 train and 320 test records.

Example:
    python scripts/make_dataset.py --dataset=tetrominoes --out_dir=/tmp/data \
        --num_examples=60320

With --format=png it writes a folder of pictures instead, <out_dir>/<dataset>_png/:
scene_000000.png ... (scene i of the built-in "train" stream; of the "test" stream for a
test set), and masks.npz, the ground truth of every picture (entity id per pixel, see
keras_slots.data.folder), so the pictures can be looked at, used elsewhere, and trained
on as a folder with known ground truth (--dataset=images:<out_dir>/<dataset>_png). The
folder path splits them into train and test by a hash of the file name.
"""

import io
import os

from absl import app
from absl import flags
import tensorflow as tf

from keras_slots import cli, files
from keras_slots.data import records
from keras_slots.data import registry
from keras_slots.data import seeding
from keras_slots.training.progress import ProgressBar

_DATASET = flags.DEFINE_string("dataset", None, "Built-in dataset name, e.g. tetrominoes.",
                               required=True)
_OUT_DIR = flags.DEFINE_string("out_dir", None, "Folder for the TFRecord file.",
                               required=True)
_NUM_EXAMPLES = flags.DEFINE_integer(
    "num_examples", None, "Records to write, train and test split together; default: the "
    "paper's train + test split sizes (the test split size for test-only datasets).")
_TRAIN_SIZE = flags.DEFINE_integer(
    "train_size", None, "Records taken from the train stream before the test stream "
    "starts; default: the paper's (70000 CLEVR, 60000 others), or --num_examples minus "
    "the 320 test records when --num_examples is set.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the built-in streams.")
_FORMAT = flags.DEFINE_enum(
    "format", "tfrecord", ["tfrecord", "png"],
    "tfrecord: the published file layout; png: a folder of PNG pictures plus masks.npz.")

PNG_MASKS_FILE = "masks.npz"  # keras_slots.data.folder.MASKS_FILE


def write_png_folder(info, folder, scenes, num_examples):
    """Writes scenes as scene_%06d.png pictures plus masks.npz (entity id per pixel).

    Args:
        info: the dataset's registry.DatasetInfo.
        folder: destination folder (created).
        scenes: iterable of raw scenes (image uint8 [H, W, 3], mask uint8 [K, H, W, 1]).
        num_examples: number of scenes, for the file names' width.

    Returns:
        The number of pictures written.
    """
    import numpy as np

    from keras_slots import visualize

    tf.io.gfile.makedirs(folder)
    names, ids = [], []
    for index, scene in enumerate(scenes):
        name = f"scene_{index:0{max(6, len(str(num_examples - 1)))}d}.png"
        visualize.save_png(os.path.join(folder, name), scene["image"])
        names.append(name)
        ids.append(np.argmax(scene["mask"][..., 0], axis=0).astype(np.uint8))  # [H, W]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, files=np.array(names), ids=np.stack(ids),
                        num_entities=info.num_entities, num_background=info.num_background)
    files.write_atomic(os.path.join(folder, PNG_MASKS_FILE), buffer.getvalue())
    return len(names)


def stream_scenes(info, seed, num_examples, train_size):
    """Yields the scenes of a file: the train stream, then the test stream.

    Args:
        info: the dataset's registry.DatasetInfo (with a generator).
        seed: stream seed.
        num_examples: number of scenes.
        train_size: scenes taken from the train stream first (ignored for a test set,
            whose scenes all come from the test stream).

    Yields:
        Raw scene dicts.
    """
    for index in range(num_examples):
        if info.test_only:
            split, scene_index = "test", index
        elif index < train_size:
            split, scene_index = "train", index
        else:
            split, scene_index = "test", index - train_size
        yield info.generate(seeding.scene_rng(seed, split, scene_index))


def with_progress(items, total, label):
    """Yields items while drawing a progress bar on stderr (about 100 lines in a log)."""
    bar = ProgressBar(total, every=max(1, total // 100), unit="scenes", label=label)
    for done, item in enumerate(items, start=1):
        yield item
        bar.update(done)


def split_sizes(info, num_examples, train_size):
    """(train records, test records) of the file, from the flags and the paper's sizes."""
    if info.test_only:
        return 0, info.test_size if num_examples is None else num_examples
    if train_size is None and num_examples is not None:
        if num_examples <= info.test_size:
            raise app.UsageError(f"--num_examples={num_examples} leaves no train records "
                                 f"after the {info.test_size} test records; pass more, "
                                 "or set --train_size")
        train_size = num_examples - info.test_size
    if train_size is None:
        train_size = info.train_size
    if num_examples is None:
        num_examples = train_size + info.test_size
    train_records = min(train_size, num_examples)
    return train_records, num_examples - train_records


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    cli.require_at_least_one(_NUM_EXAMPLES)
    if _TRAIN_SIZE.value is not None and _TRAIN_SIZE.value < 0:
        raise app.UsageError(f"--train_size must be >= 0, got {_TRAIN_SIZE.value}")
    builtin = [name for name, info in registry.DATASETS.items() if info.generate]
    if _DATASET.value not in builtin:
        raise app.UsageError(f"unknown dataset {_DATASET.value!r}; built-in datasets: "
                             f"{', '.join(builtin)}")
    info = registry.get(_DATASET.value)
    out_dir = _OUT_DIR.value
    try:
        tf.io.gfile.makedirs(out_dir)
    except (OSError, tf.errors.OpError) as error:
        raise OSError(f"cannot create --out_dir {out_dir}: "
                      f"{getattr(error, 'message', error)}") from None
    if files.is_local(out_dir) and not os.access(out_dir, os.W_OK):
        raise OSError(f"--out_dir {out_dir} is not writable")

    if _FORMAT.value == "png":
        if _TRAIN_SIZE.value is not None:
            raise app.UsageError("--train_size applies to --format=tfrecord; a folder is "
                                 "split by a hash of each file name")
        folder = os.path.join(out_dir, f"{info.name}_png")
        default = info.test_size if info.test_only else info.train_size + info.test_size
        total = _NUM_EXAMPLES.value or default
        scenes = stream_scenes(info, _SEED.value, total, train_size=total)
        count = write_png_folder(info, folder, with_progress(scenes, total, folder), total)
        print(f"wrote {count} PNG pictures and {PNG_MASKS_FILE} to {folder} (train with "
              f"--dataset=images:{folder})")
        return
    train_records, test_records = split_sizes(info, _NUM_EXAMPLES.value, _TRAIN_SIZE.value)
    num_examples = train_records + test_records
    path = records.dataset_path(info.name, out_dir)
    scenes = stream_scenes(info, _SEED.value, num_examples, train_records)
    try:
        count = records.write_records(
            path, with_progress(scenes, num_examples, os.path.basename(path)),
            info.file_format)
    except OSError as error:
        raise OSError(f"cannot write {path}: {error}") from None
    sizes_file = path + records.SPLITS_SUFFIX
    if tf.io.gfile.exists(sizes_file):
        tf.io.gfile.remove(sizes_file)
    if not info.test_only and (train_records, test_records) != (info.train_size,
                                                                info.test_size):
        records.write_split_sizes(path, train_records, test_records)
        print(f"wrote {count} records to {path} ({train_records} train, {test_records} "
              f"test; split sizes in {os.path.basename(sizes_file)})")
    else:
        print(f"wrote {count} records to {path}")


if __name__ == "__main__":
    cli.run(main)
