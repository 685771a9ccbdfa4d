"""get_dataset: tf.data streams of model-ready elements, from built-in generators or files.

Built-in streams are deterministic and random-access: scene i of a split is
`generate(seeding.scene_rng(seed, split, i))`, so train and test never share a scene and
a run resumed at `start_index=k` continues the exact stream. Files are read by
keras_slots.data.records. What each dataset is (generator, file, splits, background
masks, transform) is said once, in keras_slots.data.registry.
"""

import numpy as np
import tensorflow as tf

from keras_slots.data import folder
from keras_slots.data import records
from keras_slots.data import registry
from keras_slots.data import seeding
from keras_slots.data.elements import to_model_ready  # noqa: F401 (re-exported)
from keras_slots.data.registry import DataError

CHUNK_SIZE = 32  # Scenes generated per numpy call.


def get_dataset(name, split="train", *, data_dir=None, seed=0, num_examples=None,
                start_index=0):
    """Returns an unbatched `tf.data.Dataset` of model-ready elements.

    Args:
        name: one of registry.DATASET_NAMES, or an image folder spec "images:PATH?size=HxW"
            (keras_slots.data.folder).
        split: "train" or "test" (only "test" for a test set).
        data_dir: folder of the published TFRecord files; None uses the built-in generator.
        seed: int >= 0, seed of the built-in stream (ignored when reading files).
        num_examples: number of elements; None gives an infinite built-in "train" stream,
            the test size (320) of built-in "test" scenes, or the rest of a file's split.
        start_index: index of the first scene, to resume a stream.

    Returns:
        A dataset of dicts: "image" float32 [H, W, 3] in [-1, 1], "mask" uint8
        [K, H, W, 1], "num_objects" int32 [], and the raw per-object attributes [K, ...].
        Built-in streams hold scenes start_index ... start_index + num_examples - 1.

    Raises:
        DataError: unknown name or split, bad range, or no built-in generator.
    """
    if folder.is_spec(name):  # Pictures of a folder; data_dir and seed do not apply.
        return folder.read_dataset(name, split, num_examples, start_index)
    info = registry.check_split(name, split, start_index, num_examples)
    if data_dir is not None:
        return records.read_dataset(name, split, data_dir, num_examples=num_examples,
                                    start_index=start_index)
    if info.generate is None:
        raise DataError(f"no built-in generator for {name!r}; pass data_dir to read the "
                        "published TFRecord files")
    if num_examples is None and split == "test":
        num_examples = info.test_size  # None (train): an infinite stream.
    return _builtin_dataset(info, split, seed, num_examples, start_index)


def get_train_stream(name, *, data_dir=None, seed=0, start_position=0, shuffle=True):
    """The infinite training stream of a dataset; every element carries its "position".

    Built-in: scene i of the "train" split has position i. Files: the train split epoch
    after epoch, shuffled per epoch from (seed, epoch) unless `shuffle` is False, with
    positions counted over records before any filter (see records.read_train_stream).
    Either way `start_position` = the position after the last element consumed resumes
    the stream exactly.

    Args:
        name: one of registry.DATASET_NAMES with a train split, or an image folder spec
            (positions: epoch * train pictures + rank, see keras_slots.data.folder).
        data_dir: folder of the published files; None uses the built-in generator.
        seed: seed of the built-in stream, or of the file shuffle.
        start_position: position of the first element.
        shuffle: shuffle file records per epoch (built-in streams are fresh scenes anyway).

    Returns:
        A dataset of model-ready elements (see `get_dataset`) plus "position" int64 [].
    """
    if folder.is_spec(name):  # Pictures of a folder, shuffled per epoch from (seed, epoch).
        return folder.read_train_stream(name, seed=seed, shuffle=shuffle,
                                        start_position=start_position)
    if data_dir is not None:
        return records.read_train_stream(name, data_dir, seed=seed, shuffle=shuffle,
                                         start_position=start_position)
    stream = get_dataset(name, "train", seed=seed, start_index=start_position)
    return stream.enumerate(start_position).map(lambda i, e: dict(e, position=i))


def _builtin_dataset(info, split, seed, num_examples, start_index):
    """Stream of generated scenes: indices are batched, generated in numpy, then unbatched."""
    probe = info.generate(seeding.scene_rng(seed, split, start_index))
    _check_generated(info, probe)
    keys = list(probe)
    dtypes = [tf.string if probe[k].dtype.kind in "SUO" else tf.as_dtype(probe[k].dtype)
              for k in keys]

    def generate_chunk(indices):  # numpy int64 [B] -> list of [B, ...] arrays
        scenes = info.generate_scenes(seed, split, indices)
        return [scenes[key] for key in keys]

    def chunk_to_raw(indices):  # int64 [B] -> dict of [B, ...] tensors
        arrays = tf.numpy_function(generate_chunk, [indices], dtypes, stateful=False)
        for key, array in zip(keys, arrays):
            array.set_shape((None,) + probe[key].shape)
        return dict(zip(keys, arrays))

    if num_examples is None:
        indices = tf.data.Dataset.counter(start_index)
    else:
        indices = tf.data.Dataset.range(start_index, start_index + num_examples)
    chunks = indices.batch(CHUNK_SIZE).map(chunk_to_raw, num_parallel_calls=tf.data.AUTOTUNE)
    if info.transform is None:  # Scale whole chunks, then split them.
        return info.model_ready(chunks).unbatch()
    return info.model_ready(chunks.unbatch())


def _check_generated(info, scene):
    """Raises DataError when a generated scene's image/mask disagree with the dataset."""
    (height, width), k = info.image_size, info.num_entities
    expected = {"image": (height, width, 3), "mask": (k, height, width, 1)}
    for key, shape in expected.items():
        if scene[key].shape != shape or scene[key].dtype != np.uint8:
            raise DataError(f"built-in generator for {info.name!r} returns {key} "
                            f"{scene[key].dtype} {scene[key].shape}, expected uint8 {shape}")
