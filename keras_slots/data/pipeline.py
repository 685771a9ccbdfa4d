"""get_dataset: tf.data streams of model-ready elements, from built-in generators or files.

Built-in streams are deterministic and random-access: scene i of a split is
`BUILTIN_GENERATORS[name](np.random.default_rng([seed, split_code, i]))`, with
split_code 0 for "train" and 1 for "test", so train and test never share a scene and a
run resumed at `start_index=k` continues the exact stream.
"""

import functools
import importlib
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from keras_slots.data import clevr, clevr6, multi_dsprites, objects_room, tetrominoes


class DatasetSpec(NamedTuple):
    """Shape facts of a published dataset.

    Attributes:
        image_size: (height, width) of the stored images.
        num_entities: number of masks per scene (K), background included.
        num_background: leading masks that are background, not objects (Objects Room: sky,
            floor and two wall parts); `num_objects` counts the masks after them.
    """

    image_size: tuple
    num_entities: int
    num_background: int = 1


# The published DeepMind multi-object datasets, as stored (raw scenes). "clevr6" is
# clevr_with_masks restricted to scenes with at most 6 objects; it keeps the 11-mask layout
# of the file, and its elements are cropped and resized to 128x128 (see RAW_TRANSFORMS).
DATASET_SPECS = {
    "clevr_with_masks": DatasetSpec((240, 320), 11),
    "clevr6": DatasetSpec((240, 320), 11),
    "multi_dsprites_binarized": DatasetSpec((64, 64), 4),
    "multi_dsprites_colored_on_grayscale": DatasetSpec((64, 64), 6),
    "multi_dsprites_colored_on_colored": DatasetSpec((64, 64), 5),
    "tetrominoes": DatasetSpec((35, 35), 4),
    "objects_room": DatasetSpec((64, 64), 7, num_background=4),
    "objects_room_six_objects": DatasetSpec((64, 64), 10, num_background=4),
    "objects_room_empty_room": DatasetSpec((64, 64), 4, num_background=4),
    "objects_room_identical_color": DatasetSpec((64, 64), 10, num_background=4),
}
DATASET_NAMES = tuple(DATASET_SPECS)

# name -> callable(rng) -> raw scene dict. One line per generator.
BUILTIN_GENERATORS = {
    "clevr_with_masks": clevr.generate_scene,
    "clevr6": functools.partial(clevr.generate_scene, max_objects=clevr6.MAX_OBJECTS),
    "tetrominoes": tetrominoes.generate_scene,
    "multi_dsprites_binarized": functools.partial(
        multi_dsprites.generate_scene, variant="binarized"),
    "multi_dsprites_colored_on_grayscale": functools.partial(
        multi_dsprites.generate_scene, variant="colored_on_grayscale"),
    "multi_dsprites_colored_on_colored": functools.partial(
        multi_dsprites.generate_scene, variant="colored_on_colored"),
    "objects_room": functools.partial(objects_room.generate_scene, variant="train"),
    "objects_room_six_objects": functools.partial(
        objects_room.generate_scene, variant="six_objects"),
    "objects_room_empty_room": functools.partial(
        objects_room.generate_scene, variant="empty_room"),
    "objects_room_identical_color": functools.partial(
        objects_room.generate_scene, variant="identical_color"),
}

# Raw-scene transformations applied (per scene, in tf.data) before `to_model_ready`.
RAW_TRANSFORMS = {"clevr6": clevr6.crop_and_resize}
RAW_CROPS = {"clevr6": clevr6.CROP}  # ((top, bottom), (left, right)) of those transforms.

SPLIT_CODES = {"train": 0, "test": 1}
DEFAULT_NUM_EXAMPLES = {"train": None, "test": 320}  # None: an infinite stream.
CHUNK_SIZE = 32  # Scenes generated per numpy call.


class DatasetError(ValueError):
    """A bad dataset name, split or stream argument."""


def to_model_ready(raw, num_background=1):
    """Turns a raw scene (or a batch of them) into a model-ready element.

    Works on numpy arrays or tensors, with or without leading batch axes, so it can be
    used inside `tf.data.Dataset.map`.

    Args:
        raw: dict with "image" uint8 [..., H, W, 3], "mask" uint8 [..., K, H, W, 1]
            (entity 0 = background) and any per-object attributes.
        num_background: leading masks that are background (see DatasetSpec).

    Returns:
        dict of tensors: "image" float32 [..., H, W, 3] in [-1, 1], "num_objects" int32 [...]
        (entities after the background ones with a non-empty mask), the other keys unchanged.
    """
    element = {key: tf.convert_to_tensor(value) for key, value in raw.items()}
    element["image"] = tf.cast(element["image"], tf.float32) / 127.5 - 1.0  # [..., H, W, 3]
    foreground = element["mask"][..., num_background:, :, :, :]  # [..., K-b, H, W, 1]
    present = tf.reduce_any(foreground > 0, axis=[-3, -2, -1])  # [..., K-b]
    element["num_objects"] = tf.reduce_sum(tf.cast(present, tf.int32), axis=-1)  # [...]
    return element


def preprocessing(name):
    """How a raw image of dataset `name` becomes a model input; stored in exports.

    Returns:
        dict: "source_size" [H, W] of the stored images, "crop" [[top, bottom], [left,
        right]] or None, "resize" [H, W] the model's input size, "resize_method", and
        "channels" (3: RGB).
    """
    height, width = DATASET_SPECS[name].image_size
    crop = RAW_CROPS.get(name)
    size = clevr6.RESOLUTION if name == "clevr6" else (height, width)
    return {"source_size": [height, width],
            "crop": [list(rows_or_cols) for rows_or_cols in crop] if crop else None,
            "resize": list(size), "resize_method": "bilinear", "channels": 3}


def model_ready_fn(name):
    """`to_model_ready` with the background count of dataset `name`."""
    return functools.partial(to_model_ready, num_background=DATASET_SPECS[name].num_background)


def get_dataset(name, split="train", *, data_dir=None, seed=0, num_examples=None,
                start_index=0):
    """Returns an unbatched `tf.data.Dataset` of model-ready elements.

    Args:
        name: one of DATASET_NAMES.
        split: "train" or "test".
        data_dir: folder of the published TFRecord files; None uses the built-in generator.
        seed: int >= 0, seed of the built-in stream (ignored when reading files).
        num_examples: number of elements; None gives an infinite "train" stream and 320
            "test" scenes.
        start_index: index of the first scene, to resume a stream.

    Returns:
        A dataset of dicts: "image" float32 [H, W, 3] in [-1, 1], "mask" uint8
        [K, H, W, 1], "num_objects" int32 [], and the raw per-object attributes [K, ...].
        Built-in streams hold scenes start_index ... start_index + num_examples - 1.
    """
    if name not in DATASET_SPECS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}"
                           " (pass data_dir to read the published TFRecord files)")
    if data_dir is not None:
        records = importlib.import_module("keras_slots.data.records")
        return records.read_dataset(name, split, data_dir, num_examples=num_examples,
                                    start_index=start_index)
    if name not in BUILTIN_GENERATORS:
        raise DatasetError(f"no built-in generator for {name!r} (built-in: "
                           f"{', '.join(BUILTIN_GENERATORS)}); pass data_dir to read the "
                           "published TFRecord files")
    if split not in SPLIT_CODES:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_CODES)}")
    if start_index < 0 or (num_examples is not None and num_examples < 0):
        raise DatasetError(f"start_index ({start_index}) and num_examples ({num_examples}) "
                           "must be >= 0")
    if num_examples is None:
        num_examples = DEFAULT_NUM_EXAMPLES[split]
    return _builtin_dataset(name, BUILTIN_GENERATORS[name], SPLIT_CODES[split], seed,
                            num_examples, start_index)


def get_train_stream(name, *, data_dir=None, seed=0, start_position=0, shuffle=True):
    """The infinite training stream of a dataset; every element carries its "position".

    Built-in: scene i of the "train" split has position i. Files: the train split epoch
    after epoch, shuffled per epoch from (seed, epoch) unless `shuffle` is False, with
    positions counted over records before any filter (see records.read_train_stream).
    Either way `start_position` = the position after the last element consumed resumes
    the stream exactly.

    Args:
        name: one of DATASET_NAMES with a train split.
        data_dir: folder of the published files; None uses the built-in generator.
        seed: seed of the built-in stream, or of the file shuffle.
        start_position: position of the first element.
        shuffle: shuffle file records per epoch (built-in streams are fresh scenes anyway).

    Returns:
        A dataset of model-ready elements (see `get_dataset`) plus "position" int64 [].
    """
    if data_dir is not None:
        if name not in DATASET_SPECS:
            raise DatasetError(f"unknown dataset {name!r}; choose one of "
                               f"{', '.join(DATASET_NAMES)}")
        records = importlib.import_module("keras_slots.data.records")
        return records.read_train_stream(name, data_dir, seed=seed, shuffle=shuffle,
                                         start_position=start_position)
    stream = get_dataset(name, "train", seed=seed, start_index=start_position)
    return stream.enumerate(start_position).map(lambda i, e: dict(e, position=i))


def _builtin_dataset(name, generate, split_code, seed, num_examples, start_index):
    """Stream of generated scenes: indices are batched, generated in numpy, then unbatched."""
    probe = generate(np.random.default_rng([seed, split_code, start_index]))
    _check_spec(name, probe)
    keys = list(probe)
    dtypes = [tf.string if probe[k].dtype.kind in "SUO" else tf.as_dtype(probe[k].dtype)
              for k in keys]

    def generate_chunk(indices):  # numpy int64 [B] -> list of [B, ...] arrays
        scenes = [generate(np.random.default_rng([seed, split_code, int(i)]))
                  for i in indices]
        return [np.stack([scene[k] for scene in scenes]) for k in keys]

    def chunk_to_raw(indices):  # int64 [B] -> dict of [B, ...] tensors
        arrays = tf.numpy_function(generate_chunk, [indices], dtypes, stateful=False)
        for key, array in zip(keys, arrays):
            array.set_shape((None,) + probe[key].shape)
        return dict(zip(keys, arrays))

    if num_examples is None:
        indices = tf.data.Dataset.counter(start_index)
    else:
        indices = tf.data.Dataset.range(start_index, start_index + num_examples)
    scenes = indices.batch(CHUNK_SIZE).map(chunk_to_raw, num_parallel_calls=tf.data.AUTOTUNE)
    if name in RAW_TRANSFORMS:
        scenes = scenes.unbatch().map(RAW_TRANSFORMS[name], num_parallel_calls=tf.data.AUTOTUNE)
        return scenes.map(model_ready_fn(name), num_parallel_calls=tf.data.AUTOTUNE)
    return scenes.map(model_ready_fn(name), num_parallel_calls=tf.data.AUTOTUNE).unbatch()


def _check_spec(name, scene):
    """Raises DatasetError when a generated scene's image/mask shapes disagree with the spec."""
    (height, width), k = DATASET_SPECS[name].image_size, DATASET_SPECS[name].num_entities
    expected = {"image": (height, width, 3), "mask": (k, height, width, 1)}
    for key, shape in expected.items():
        if scene[key].shape != shape or scene[key].dtype != np.uint8:
            raise DatasetError(f"built-in generator for {name!r} returns {key} "
                               f"{scene[key].dtype} {scene[key].shape}, expected uint8 {shape}")
