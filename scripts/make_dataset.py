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
"""

import os
import sys
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from keras_slots import cli, files
from keras_slots.data import formats
from keras_slots.data import records
from keras_slots.data.pipeline import BUILTIN_GENERATORS

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

_BAR_WIDTH = 30


def _fail(message):
    """Prints one line to stderr and exits with status 1."""
    print(f"make_dataset: error: {message}", file=sys.stderr)
    sys.exit(1)


def stream_scenes(generate, seed, num_examples, train_size, test_only):
    """Yields the scenes of a file: the train stream, then the test stream.

    Args:
        generate: callable(rng) -> raw scene.
        seed: stream seed.
        num_examples: number of scenes.
        train_size: scenes taken from the train stream first.
        test_only: True to take every scene from the test stream.

    Yields:
        Raw scene dicts.
    """
    for index in range(num_examples):
        if test_only:
            split_code, scene_index = 1, index
        elif index < train_size:
            split_code, scene_index = 0, index
        else:
            split_code, scene_index = 1, index - train_size
        yield generate(np.random.default_rng([seed, split_code, scene_index]))


def with_progress(items, total, label):
    """Yields items while drawing a text progress bar on stderr."""
    start = time.monotonic()
    shown = -1
    for done, item in enumerate(items, start=1):
        yield item
        percent = done * 100 // total
        if percent != shown or done == total:
            shown = percent
            filled = done * _BAR_WIDTH // total
            rate = done / max(time.monotonic() - start, 1e-9)
            sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] "
                             f"{done}/{total} {rate:.0f} scenes/s")
            sys.stderr.flush()
    sys.stderr.write("\n")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if _NUM_EXAMPLES.value is not None and _NUM_EXAMPLES.value < 1:
        raise app.UsageError(f"--num_examples must be >= 1, got {_NUM_EXAMPLES.value}")
    if _TRAIN_SIZE.value is not None and _TRAIN_SIZE.value < 0:
        raise app.UsageError(f"--train_size must be >= 0, got {_TRAIN_SIZE.value}")

    name = _DATASET.value
    if name not in BUILTIN_GENERATORS or name not in formats.FORMATS:
        known = sorted(set(BUILTIN_GENERATORS) & set(formats.FORMATS))
        _fail(f"unknown dataset {name!r}; built-in datasets: {', '.join(known)}")
    test_only = name in formats.TEST_ONLY
    num_examples = _NUM_EXAMPLES.value
    train_size = _TRAIN_SIZE.value
    if train_size is None and num_examples is not None and not test_only:
        if num_examples <= formats.TEST_SIZE:
            raise app.UsageError(f"--num_examples={num_examples} leaves no train records "
                                 f"after the {formats.TEST_SIZE} test records; pass more, "
                                 "or set --train_size")
        train_size = num_examples - formats.TEST_SIZE
    if train_size is None:
        train_size = formats.train_size(name)
    if num_examples is None:
        num_examples = formats.TEST_SIZE if test_only else train_size + formats.TEST_SIZE
    train_records = 0 if test_only else min(train_size, num_examples)
    test_records = num_examples - train_records

    out_dir = _OUT_DIR.value
    try:
        tf.io.gfile.makedirs(out_dir)
    except (OSError, tf.errors.OpError) as error:
        _fail(f"cannot create --out_dir {out_dir}: {getattr(error, 'message', error)}")
    if files.is_local(out_dir) and not os.access(out_dir, os.W_OK):
        _fail(f"--out_dir {out_dir} is not writable")

    path = records.dataset_path(name, out_dir)
    scenes = stream_scenes(BUILTIN_GENERATORS[name], _SEED.value, num_examples, train_size,
                           test_only)
    try:
        count = records.write_records(
            path, with_progress(scenes, num_examples, os.path.basename(path)), name)
    except OSError as error:
        _fail(f"cannot write {path}: {error}")
    sizes_file = path + records.SPLITS_SUFFIX
    if os.path.exists(sizes_file):
        os.remove(sizes_file)
    if not test_only and (train_records, test_records) != (formats.train_size(name),
                                                           formats.TEST_SIZE):
        records.write_split_sizes(path, train_records, test_records)
        print(f"wrote {count} records to {path} ({train_records} train, {test_records} "
              f"test; split sizes in {os.path.basename(sizes_file)})")
    else:
        print(f"wrote {count} records to {path}")


if __name__ == "__main__":
    cli.run(main)
