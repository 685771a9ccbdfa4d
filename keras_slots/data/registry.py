"""The datasets: one entry per dataset says everything the package knows about it.

Each entry of DATASETS is a `DatasetInfo`:

    name            the name passed to get_dataset, the config and the scripts.
    file_format     how its published file is laid out (formats.FileFormat): file name,
                    image size, masks per scene (K, background included), features.
    generate        the built-in generator, rng -> raw scene; None: files only.
    num_background  leading masks that are background, not objects (1; Objects Room: 4,
                    sky, floor and two wall parts).
    train_size      records of the train split: the first ones of the file (paper: 70k
                    CLEVR, 60k others).
    test_size       records of the test split, right after the train ones (paper: 320).
    test_only       the whole file is a test set (the Objects Room test variants).
    keep            a filter on raw scenes read from a file, or None. The train split
                    counts records before it, the test split scenes after it (CLEVR6
                    keeps scenes with at most 6 objects; its built-in generator makes
                    only such scenes).
    transform       raw scene -> raw scene applied before the model sees it, or None
                    (CLEVR6 crops and resizes to 128x128); `crop` and `resolution`
                    say what it does, for exports.

Adding a dataset is one entry here (and its generator module). A dataset stored in
another way than the published TFRecord layout brings its own format object with the same
`file_name`, `image_size` and `max_num_entities` facts, and its reader: a folder of
pictures, named by the spec `images:PATH`, is one (keras_slots.data.folder; `get` returns
its DatasetInfo).

Scene i of a split of a built-in stream comes from `seeding.scene_rng(seed, split, i)`.
"""

import dataclasses
import functools
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from keras_slots.data import clevr, clevr6, formats, multi_dsprites, objects_room, seeding
from keras_slots.data import tetrominoes
from keras_slots.data.elements import to_model_ready

SPLITS = ("train", "test")
PAPER_TEST_SIZE = 320


class DataError(ValueError):
    """A bad dataset name, split or range, or a missing, empty or corrupt dataset file."""


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One dataset (fields described in the module docstring)."""

    name: str
    file_format: formats.FileFormat
    generate: Optional[Callable] = None
    num_background: int = 1
    train_size: int = 60_000
    test_size: int = PAPER_TEST_SIZE
    test_only: bool = False
    keep: Optional[Callable] = None
    transform: Optional[Callable] = None
    crop: Optional[tuple] = None  # ((top, bottom), (left, right)) taken by `transform`.
    resolution: Optional[tuple] = None  # (H, W) after `transform`; None: image_size.

    @property
    def image_size(self):
        """(height, width) of the stored images."""
        return self.file_format.image_size

    @property
    def num_entities(self):
        """Masks per scene (K), background included."""
        return self.file_format.max_num_entities

    @property
    def splits(self):
        """The split names of the dataset."""
        return ("test",) if self.test_only else SPLITS

    def preprocessing(self):
        """How a stored image becomes a model input; stored in exports.

        Returns:
            dict: "source_size" [H, W] of the stored images, "crop" [[top, bottom],
            [left, right]] or None, "resize" [H, W] the model's input size,
            "resize_method", and "channels" (3: RGB).
        """
        crop = [list(rows_or_cols) for rows_or_cols in self.crop] if self.crop else None
        return {"source_size": list(self.image_size), "crop": crop,
                "resize": list(self.resolution or self.image_size),
                "resize_method": "bilinear", "channels": 3}

    def generate_scenes(self, seed, split, indices):
        """Generates scenes `indices` of a built-in split and stacks them.

        Args:
            seed: int >= 0, the stream seed.
            split: "train" or "test".
            indices: iterable of ints >= 0, the scene indices.

        Returns:
            dict of the raw scene keys, each stacked along a new leading axis [B, ...].
        """
        scenes = [self.generate(seeding.scene_rng(seed, split, i)) for i in indices]
        return {key: np.stack([scene[key] for scene in scenes]) for key in scenes[0]}

    def model_ready(self, scenes):
        """Maps a dataset of raw scenes to model-ready elements (transform, then scaling).

        Args:
            scenes: unbatched tf.data.Dataset of raw scenes (see elements.to_model_ready);
                without a transform, batched scenes work too.

        Returns:
            The dataset of model-ready elements.
        """
        if self.transform is not None:
            scenes = scenes.map(self.transform, num_parallel_calls=tf.data.AUTOTUNE)
        ready = functools.partial(to_model_ready, num_background=self.num_background)
        return scenes.map(ready, num_parallel_calls=tf.data.AUTOTUNE)


def _multi_dsprites(variant):
    return DatasetInfo(
        f"multi_dsprites_{variant}",
        formats.multi_dsprites(variant, multi_dsprites.MAX_NUM_ENTITIES[variant]),
        functools.partial(multi_dsprites.generate_scene, variant=variant))


def _objects_room(variant, file_name):
    name = "objects_room" if variant == "train" else f"objects_room_{variant}"
    return DatasetInfo(
        name, formats.objects_room(file_name, objects_room.MAX_NUM_ENTITIES[variant]),
        functools.partial(objects_room.generate_scene, variant=variant),
        num_background=objects_room.NUM_BACKGROUND_ENTITIES, test_only=variant != "train")


DATASETS = {info.name: info for info in (
    DatasetInfo("clevr_with_masks", formats.CLEVR_WITH_MASKS, clevr.generate_scene,
                train_size=70_000),
    DatasetInfo("clevr6", formats.CLEVR_WITH_MASKS,
                functools.partial(clevr.generate_scene, max_objects=clevr6.MAX_OBJECTS),
                train_size=70_000, keep=clevr6.at_most_six_objects,
                transform=clevr6.crop_and_resize, crop=clevr6.CROP,
                resolution=clevr6.RESOLUTION),
    _multi_dsprites("binarized"),
    _multi_dsprites("colored_on_grayscale"),
    _multi_dsprites("colored_on_colored"),
    DatasetInfo("tetrominoes", formats.TETROMINOES, tetrominoes.generate_scene),
    _objects_room("train", "objects_room_train.tfrecords"),
    _objects_room("six_objects", "objects_room_test_six_objects.tfrecords"),
    _objects_room("empty_room", "objects_room_test_empty_room.tfrecords"),
    _objects_room("identical_color", "objects_room_test_identical_color.tfrecords"),
)}
DATASET_NAMES = tuple(DATASETS)
FOLDER_PREFIX = "images:"  # A dataset spec "images:PATH" is a folder of pictures.


def get(name):
    """The DatasetInfo of a dataset name (`catalog.get` also takes image folder specs).

    Raises:
        DataError: for an unknown name, listing the known ones.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def check_split(name, split, start_index=0, num_examples=None):
    """Checks a request for part of a split; returns the dataset's DatasetInfo.

    Args:
        name: a dataset name.
        split: "train" or "test".
        start_index: first element asked for, >= 0.
        num_examples: elements asked for, >= 0, or None.

    Raises:
        DataError: unknown name or split, a train split of a test set, or a negative
            start_index or num_examples.
    """
    info = get(name)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if split not in info.splits:
        raise DataError(f"dataset {name!r} is a test set: only split 'test' exists")
    if start_index < 0 or (num_examples is not None and num_examples < 0):
        raise DataError(f"start_index ({start_index}) and num_examples ({num_examples}) "
                        "must be >= 0")
    return info
