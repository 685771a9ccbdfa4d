"""Reading and writing the DeepMind multi-object TFRecord files (GZIP, tf.train.Example).

Splits follow the paper's protocol (sizes in keras_slots.data.registry): "train" is the
first 70k (CLEVR) or 60k records of a file, "test" the 320 records right after them; the
Objects Room test variants are test files as a whole. A file written by scripts/make_dataset.py with other sizes has a
`<file>.splits.json` beside it ({"train": n, "test": m}) that overrides these sizes.

A dataset with a `keep` filter (CLEVR6: at most six objects) counts its train records
BEFORE the filter (so clevr6 and clevr_with_masks share the train/test boundary and no
test scene was ever a train record of either); its test split is the first 320 kept
scenes AFTER that boundary (the filter comes first, then 320 are taken).

Training reads the train split epoch after epoch (`read_train_stream`); each epoch
shuffles the records within consecutive windows of SHUFFLE_WINDOW records with a
permutation drawn from (seed, epoch, window), and every element carries its position
(epoch * train records + rank in the epoch's order), so a run resumes at the exact record.

Errors. `read_dataset` raises `DataError` at construction for a missing file, a file with
no records, and a first record that is corrupt or has the wrong layout. Later records are
checked inside the tf.data pipeline: a record with a wrong feature size makes iteration
raise `tf.errors.InvalidArgumentError` whose message names the file, the record index and
the problem; corrupt GZIP data raises `tf.errors.DataLossError` from the reader, and a
split shorter than asked `tf.errors.FailedPreconditionError`. `verify_file` scans a whole
file and turns any of these into a `DataError` with the record index.

Paths go through tf.io.gfile: files may be local or on any file system TensorFlow knows
(gs://bucket/folder, ram://...).
"""

import gzip
import json
import os
import re
import zlib

import numpy as np
import tensorflow as tf

from keras_slots import files
from keras_slots.data import formats
from keras_slots.data import registry
from keras_slots.data.registry import DataError

COMPRESSION = "GZIP"
SPLITS_SUFFIX = ".splits.json"  # Split sizes of a file that is not the paper's layout.
SHUFFLE_WINDOW = 1024  # Records shuffled together (the GZIP files are read sequentially).


_ONE_BYTE = tuple(bytes([value]) for value in range(256))


def dataset_path(name, data_dir):
    """Path of the published file a dataset is read from.

    Args:
        name: a dataset name (registry.DATASET_NAMES).
        data_dir: folder holding the files.

    Returns:
        The path as a string.
    """
    return os.path.join(os.fspath(data_dir), registry.get(name).file_format.file_name)


def split_sizes(name, data_dir):
    """(train records, test records) of a dataset's file in data_dir.

    The sizes come from `<file>.splits.json` when make_dataset.py wrote one, otherwise from
    the paper's protocol (70k CLEVR or 60k train records, then 320 test records).
    """
    path = dataset_path(name, data_dir) + SPLITS_SUFFIX
    if files.is_file(path):
        with tf.io.gfile.GFile(path) as f:
            sizes = json.load(f)
        return int(sizes["train"]), int(sizes["test"])
    info = registry.get(name)
    return info.train_size, info.test_size


def write_split_sizes(path, train, test):
    """Writes `<path>.splits.json`, the split sizes of a file not in the paper's layout."""
    sizes = {"train": int(train), "test": int(test)}
    files.write_atomic(path + SPLITS_SUFFIX, json.dumps(sizes))


def read_dataset(name, split, data_dir, num_examples=None, start_index=0, *,
                 train_size=None, test_size=None):
    """Reads a published file as an unbatched dataset of model-ready elements.

    Args:
        name: a dataset name ("clevr6" reads clevr_with_masks_train.tfrecords, keeps
            scenes with at most 6 objects, crops and resizes them to 128x128).
        split: "train" or "test" ("test" only for the Objects Room test variants).
        data_dir: folder holding the published file.
        num_examples: number of records of the split to read (for the CLEVR6 train split:
            records before the filter; for its test split: scenes after the filter); None
            reads the rest of the split (320 scenes for the CLEVR6 test split).
        start_index: index, within the split, of the first record to read (CLEVR6 test
            split: of the first filtered scene).
        train_size: records in the train split; None: `split_sizes`.
        test_size: records in the test split, right after the train ones; None:
            `split_sizes`.

    Returns:
        A tf.data.Dataset of dicts: "image" float32 [H, W, 3] in [-1, 1], "mask" uint8
        [K, H, W, 1], "num_objects" int32 [], and the file's per-object attributes
        (float32, or uint8 codes for CLEVR's size/material/shape/color). Multi-dSprites
        "binarized" images are grayscale on disk and repeated to 3 channels here.

    Raises:
        DataError: unknown name or split, a slice outside the split, a missing or empty
            file, or a bad first record.

    A file shorter than the split makes iteration raise
    `tf.errors.FailedPreconditionError` ("expected to contain N elements").
    """
    info = registry.check_split(name, split, start_index, num_examples)
    path = _checked_path(name, data_dir, info.file_format)
    default_train, default_test = split_sizes(name, data_dir)
    train_size = default_train if train_size is None else train_size
    test_size = default_test if test_size is None else test_size
    parse = _record_parser(info.file_format, os.path.basename(path))
    indexed = tf.data.TFRecordDataset(path, compression_type=COMPRESSION).enumerate()
    if info.keep is not None and split == "test":  # Filter first, then take the scenes.
        count = info.test_size if num_examples is None else num_examples
        scenes = indexed.skip(train_size).map(parse, num_parallel_calls=tf.data.AUTOTUNE)
        scenes = scenes.filter(info.keep).skip(start_index).take(count)
        scenes = scenes.apply(tf.data.experimental.assert_cardinality(count))
        return info.model_ready(scenes)
    first, count = _split_range(info, split, num_examples, start_index, train_size,
                                test_size)
    indexed = indexed.skip(first)  # (record index in the file, serialized Example)
    if count is not None:
        indexed = indexed.take(count)
    scenes = indexed.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    if count is not None:
        scenes = scenes.apply(tf.data.experimental.assert_cardinality(count))
    return _finish(info, scenes)


def read_train_stream(name, data_dir, *, seed=0, shuffle=True, start_position=0,
                      window=SHUFFLE_WINDOW, train_size=None):
    """The train split read epoch after epoch (an infinite stream), for training.

    Epoch e reads the split's records in file order, or, with `shuffle`, permutes each run
    of `window` consecutive records by a permutation drawn from (seed, e, window index):
    the order changes every epoch, and the same seed gives the same order. Each element's
    "position" is e * train_size + its rank in the epoch's order, counted over records
    before the CLEVR6 filter, so `start_position` (the position after the last element
    consumed) resumes exactly, filtered or not.

    Args:
        name: dataset name with a train split (not an Objects Room test variant).
        data_dir: folder holding the file.
        seed: int, seed of the shuffle.
        shuffle: permute the records within windows, anew each epoch.
        start_position: position of the first record to read (epoch and rank).
        window: records per shuffled window.
        train_size: records in the train split; None: `split_sizes`.

    Returns:
        A dataset of model-ready elements (see `read_dataset`) with "position" int64 [].
        If the file holds fewer records than the split, iteration raises
        `tf.errors.FailedPreconditionError` at the end of the first epoch.
    """
    info = registry.check_split(name, "train")
    path = _checked_path(name, data_dir, info.file_format)
    size = split_sizes(name, data_dir)[0] if train_size is None else train_size
    if size < 1 or window < 1 or start_position < 0:
        raise DataError(f"train size ({size}), window ({window}) must be >= 1 and "
                         f"start_position ({start_position}) >= 0")
    size64, window64 = tf.constant(size, tf.int64), tf.constant(window, tf.int64)
    first_epoch, first_rank = divmod(int(start_position), size)
    parse = _record_parser(info.file_format, os.path.basename(path))

    def permute(records, window_index, epoch):  # records: (index [m], serialized [m])
        key = tf.stack([tf.cast(seed, tf.int64), epoch])  # [2]
        key = tf.random.experimental.stateless_fold_in(key, window_index)  # [2]
        order = tf.argsort(tf.random.stateless_uniform(tf.shape(records[0]), key))  # [m]
        return tf.gather(records[0], order), tf.gather(records[1], order)  # [m] each

    def epoch_records(epoch):
        """(position, record index, serialized) of one epoch, from its first rank on."""
        rank = tf.where(epoch == first_epoch, tf.constant(first_rank, tf.int64), 0)
        start = rank // window64 * window64 if shuffle else rank  # Read from a window start.
        records = tf.data.TFRecordDataset(path, compression_type=COMPRESSION).enumerate()
        records = records.take(size64).apply(tf.data.experimental.assert_cardinality(size))
        records = records.skip(start)
        if shuffle:
            records = records.batch(window64).enumerate(start // window64)
            records = records.map(lambda w, r: permute(r, w, epoch)).unbatch()
        ranked = records.enumerate(start)  # (rank, (record index, serialized))
        ranked = ranked.filter(lambda r, _: r >= rank)
        return ranked.map(lambda r, rec: (epoch * size64 + r, rec[0], rec[1]))

    stream = tf.data.Dataset.counter(first_epoch).flat_map(epoch_records)

    def parse_with_position(position, index, serialized):
        scene = parse(index, serialized)
        scene["position"] = position
        return scene

    scenes = stream.map(parse_with_position, num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(info, scenes)


def _finish(info, scenes):
    """Raw scenes -> model-ready elements, the kept ones only when the dataset filters."""
    if info.keep is not None:
        scenes = scenes.filter(info.keep)
    return info.model_ready(scenes)


def _checked_path(name, data_dir, fmt):
    """The dataset's file path, once its existence and first record are checked."""
    path = dataset_path(name, data_dir)
    if not files.is_file(path):
        raise DataError(f"dataset {name!r}: expected file {path} does not exist")
    _check_first_record(path, fmt)
    return path


def _split_range(info, split, num_examples, start_index, train_size, test_size):
    """Returns (first record index, record count or None for "to the end of the file").

    The split and the range's signs are checked already (registry.check_split).
    """
    if info.test_only:
        return start_index, num_examples
    first, size = (0, train_size) if split == "train" else (train_size, test_size)
    if start_index > size:
        raise DataError(f"start_index {start_index} is past the {size} records of the "
                        f"{split!r} split of {info.name!r}")
    available = size - start_index
    if num_examples is not None and num_examples > available:
        raise DataError(f"num_examples {num_examples} exceeds the {available} records of "
                        f"the {split!r} split of {info.name!r} from index {start_index}")
    return first + start_index, available if num_examples is None else num_examples


def _record_parser(fmt, file_name):
    """Returns a tf.data map function (record index, serialized Example) -> raw scene."""
    spec = {key: tf.io.VarLenFeature(tf.string if f.kind == formats.BYTES else tf.float32)
            for key, f in fmt.features.items()}

    def parse(index, serialized):
        parsed = tf.io.parse_single_example(serialized, spec)
        scene = {key: _decode_feature(parsed[key].values, key, feature, index, file_name)
                 for key, feature in fmt.features.items()}
        return _to_memory_layout(scene, fmt)

    return parse


def _decode_feature(values, key, feature, index, file_name):
    """Checks one parsed feature's size and reshapes it; values: [n] strings or floats."""
    count = tf.size(values)
    if feature.kind == formats.BYTES:
        data = tf.strings.reduce_join(values)  # One string of all the bytes.
        num_bytes = tf.strings.length(data)
        ok = tf.logical_and(tf.equal(count, feature.size), tf.equal(num_bytes, feature.size))
        message = tf.strings.format(  # No quotes: tf.debugging.Assert escapes them.
            f"{file_name} record {{}}: feature {key} has {{}} bytes in {{}} strings, expected "
            f"{feature.size} one-byte strings", [index, num_bytes, count])
    else:
        ok = tf.equal(count, feature.size)
        message = tf.strings.format(
            f"{file_name} record {{}}: feature {key} has {{}} floats, expected {feature.size}",
            [index, count])
    check = tf.debugging.Assert(ok, [message])
    with tf.control_dependencies([check]):
        if feature.kind == formats.BYTES:
            values = tf.io.decode_raw(data, tf.uint8)  # [size]
        return tf.reshape(values, feature.shape)


def _to_memory_layout(scene, fmt):
    """Masks object-first [K, H, W, 1]; grayscale images repeated to [H, W, 3]."""
    if fmt.masks_last:
        scene["mask"] = tf.transpose(scene["mask"], [2, 0, 1, 3])  # [K, H, W, 1]
    if fmt.grayscale:
        scene["image"] = tf.repeat(scene["image"], 3, axis=-1)  # [H, W, 3]
    return scene


def _check_first_record(path, fmt):
    """Raises DataError unless the file's first record decodes with the format."""
    file_name = os.path.basename(path)
    records = tf.data.TFRecordDataset(path, compression_type=COMPRESSION).enumerate()
    try:
        first = next(iter(records.take(1).map(_record_parser(fmt, file_name))), None)
    except tf.errors.OpError as error:
        raise DataError(_describe(error, file_name, 0)) from None
    if first is None:
        problem = _gzip_problem(path)  # TF reads a cut first record as "no records".
        if problem:
            raise DataError(f"{file_name} record 0: truncated or corrupt GZIP data ({problem})")
        raise DataError(f"{path} holds no records")


def _gzip_problem(path):
    """Returns why the file is not a complete GZIP stream, or None when it is."""
    try:
        with tf.io.gfile.GFile(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error, tf.errors.OpError) as error:
        return str(error)
    return None


def verify_file(path, fmt):
    """Reads every record of a file and checks its layout.

    Args:
        path: a GZIP TFRecord file.
        fmt: its formats.FileFormat, or a dataset name.

    Returns:
        The number of records.

    Raises:
        DataError: missing or empty file, corrupt data or a bad record, naming the record.
    """
    fmt = registry.get(fmt).file_format if isinstance(fmt, str) else fmt
    if not files.is_file(path):
        raise DataError(f"{path} does not exist")
    file_name = os.path.basename(path)
    records = tf.data.TFRecordDataset(path, compression_type=COMPRESSION).enumerate()
    iterator = iter(records.map(_record_parser(fmt, file_name)))
    count = 0
    while True:
        try:
            next(iterator)
        except StopIteration:
            break
        except tf.errors.OpError as error:
            raise DataError(_describe(error, file_name, count)) from None
        count += 1
    problem = _gzip_problem(path)  # TF may stop silently at a cut between records.
    if problem:
        raise DataError(f"{file_name} record {count}: truncated or corrupt GZIP data "
                        f"({problem})")
    if count == 0:
        raise DataError(f"{path} holds no records")
    return count


def _describe(error, file_name, index):
    """One-line message for a tf.data error raised at record `index` of a file."""
    text = re.sub(r"\{\{.*?\}\}\s*", "", error.message.split("\n", 1)[0])
    if "Iterator::" in text:  # Drop "Error in user-defined function ... Iterator::...: ".
        text = text.split("Iterator::", 1)[1].split(": ", 1)[-1]
    text = text.split(" [Op:", 1)[0].strip()
    if text.startswith("assertion failed: ["):  # Our own check names file and record.
        return text[len("assertion failed: ["):].rstrip("]").strip()
    if isinstance(error, tf.errors.DataLossError):
        return f"{file_name} record {index}: truncated or corrupt GZIP data ({text})"
    return f"{file_name} record {index}: cannot parse the Example ({text})"


def write_records(path, scenes, fmt):
    """Writes raw scenes as a GZIP TFRecord file in exactly the published layout.

    The file appears atomically (files.atomic_file).

    Args:
        path: output file.
        scenes: iterable of raw scene dicts with exactly the format's feature keys: "image"
            uint8 [H, W, 3] (or [H, W, 1] for grayscale formats), "mask" uint8
            [K, H, W, 1] (object-first; Multi-dSprites files get [H, W, K, 1]), BYTES
            attributes as uint8 (or 1-byte numpy strings), FLOAT attributes as numbers.
        fmt: a formats.FileFormat, or a dataset name.

    Returns:
        The number of records written.

    Raises:
        ValueError: a scene with missing, extra or wrongly shaped features, or no scenes.
    """
    fmt = registry.get(fmt).file_format if isinstance(fmt, str) else fmt
    count = 0
    with files.atomic_file(path) as temp_path:
        with tf.io.TFRecordWriter(temp_path, options=COMPRESSION) as writer:
            for count, scene in enumerate(scenes, start=1):
                writer.write(scene_to_example(scene, fmt, index=count - 1).SerializeToString())
        if count == 0:
            raise ValueError(f"no scenes to write to {os.fspath(path)}")
    return count


def scene_to_example(scene, fmt, index=0):
    """Builds the tf.train.Example of one raw scene in the published layout.

    Args:
        scene: raw scene dict (see write_records).
        fmt: a formats.FileFormat.
        index: scene index, for error messages.

    Returns:
        A tf.train.Example.
    """
    extra = sorted(set(scene) - set(fmt.features))
    missing = sorted(set(fmt.features) - set(scene))
    if extra or missing:
        raise ValueError(f"scene {index} for {fmt.file_name}: missing features {missing}, "
                         f"unexpected features {extra}")
    feature_protos = {}
    for key, feature in fmt.features.items():
        array = _to_disk_layout(key, np.asarray(scene[key]), fmt)
        if array.shape != feature.shape:
            raise ValueError(f"scene {index} for {fmt.file_name}: '{key}' has shape "
                             f"{array.shape}, expected {feature.shape}")
        if feature.kind == formats.BYTES:
            if array.dtype.kind == "S" and array.dtype.itemsize == 1:
                array = array.view(np.uint8)
            if array.dtype != np.uint8:
                raise ValueError(f"scene {index} for {fmt.file_name}: '{key}' has dtype "
                                 f"{array.dtype}, expected uint8")
            strings = [_ONE_BYTE[value] for value in array.ravel().tolist()]
            feature_protos[key] = tf.train.Feature(
                bytes_list=tf.train.BytesList(value=strings))
        else:
            values = array.astype(np.float32).ravel().tolist()
            feature_protos[key] = tf.train.Feature(
                float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature_protos))


def _to_disk_layout(key, array, fmt):
    """Moves a raw scene array to the on-disk layout of `fmt`."""
    if key == "mask" and fmt.masks_last and array.ndim == 4:
        array = array.transpose(1, 2, 0, 3)  # [K, H, W, 1] -> [H, W, K, 1]
    if fmt.grayscale and key in ("image", "color") and array.shape[-1:] == (3,):
        if not (np.all(array[..., :1] == array[..., 1:])):
            raise ValueError(f"'{key}' of {fmt.file_name} is grayscale on disk, but its "
                             "3 channels differ")
        array = array[..., :1]  # [..., 1]
    return array
