"""A folder of your own pictures as a dataset, named by the spec `images:PATH`.

The spec is accepted wherever a dataset name is: `--dataset` of train.py, evaluate.py and
visualize.py, `get_dataset`, `get_train_stream`, `registry.get`. Its full form, which
train.py records in the run's config, says how pictures are prepared:

    images:PATH?size=HxW&crop=center&skip_bad=1&test=0.1

    size      the model's input size (train.py fills it in from the model config).
    crop      "center" (default): the largest centred window with the model's aspect
              ratio, then resized; "stretch": the whole picture resized, distorted
              (see keras_slots.images.fit_image).
    skip_bad  1: files that cannot be decoded are left out and counted in a warning;
              absent or 0: the first such file stops with a DataError naming it.
    test      the share of pictures held out for evaluation, in [0, 1) (default 0.1);
              a folder of a handful of pictures may need more, e.g. test=0.4.

Pictures: every .png, .jpg and .jpeg file (any case) under PATH, recursively, hidden
files and folders excepted, in the order of their path relative to PATH. RGBA pictures
lose their alpha channel and grayscale ones are repeated to RGB.

Split: a picture belongs to "test" when the SHA-1 of its relative path (with "/") falls
in the lowest `test` share of hash values (TEST_FRACTION unless the spec says), so adding
or removing files never moves another file between train and test.

Ground truth (optional): PATH/masks.npz with "files" (relative paths), "ids" uint8
[N, h, w] (the entity id of every pixel, at the stored picture size), "num_entities" and
"num_background" (scripts/make_dataset.py --format=png writes one). With it, elements
carry "mask" uint8 [K, H, W, 1] and "num_objects" as built-in data do, and FG-ARI can be
scored; without it, they carry "image" and "file" (the relative path) only.

Training stream: epoch e visits the train pictures in a permutation drawn from (seed, e)
(sorted order without shuffling); the position of an element is e * train pictures + its
rank in the epoch, so `start_position` resumes exactly while the folder is unchanged.
"""

import dataclasses
import hashlib
import os
import posixpath
import re
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf

from keras_slots import images
from keras_slots.data import registry
from keras_slots.data.elements import to_model_ready
from keras_slots.data.registry import DataError

PREFIX = registry.FOLDER_PREFIX
EXTENSIONS = (".png", ".jpg", ".jpeg")
MASKS_FILE = "masks.npz"
TEST_FRACTION = 0.1
_OPTIONS = ("size", "crop", "skip_bad", "test")


@dataclasses.dataclass(frozen=True)
class FolderSpec:
    """A parsed `images:PATH?...` spec (fields described in the module docstring)."""

    path: str
    size: Optional[tuple] = None
    crop: str = "center"
    skip_bad: bool = False
    test: float = TEST_FRACTION

    def __str__(self):
        options = [f"size={self.size[0]}x{self.size[1]}"] if self.size else []
        options.append(f"crop={self.crop}")
        if self.skip_bad:
            options.append("skip_bad=1")
        if self.test != TEST_FRACTION:  # Specs saved before the option read the same.
            options.append(f"test={self.test:g}")
        return f"{PREFIX}{self.path}?{'&'.join(options)}"


@dataclasses.dataclass(frozen=True)
class FolderFormat:
    """The facts a DatasetInfo needs of its storage (as formats.FileFormat gives them)."""

    file_name: str  # The folder.
    image_size: tuple  # (H, W) of the elements: the model's size.
    max_num_entities: int  # Masks per scene in masks.npz; 0 without ground truth.


@dataclasses.dataclass(frozen=True)
class GroundTruth:
    """The contents of masks.npz: entity ids per pixel, one row per file."""

    rows: dict  # relative path -> row of `ids`
    ids: np.ndarray  # uint8 [N, h, w]
    num_entities: int
    num_background: int


@dataclasses.dataclass(frozen=True)
class Contents:
    """What a scan of the folder found."""

    root: str
    train: tuple  # Relative paths, sorted.
    test: tuple
    skipped: tuple  # (relative path, reason) of files left out by skip_bad.
    ground_truth: Optional[GroundTruth]

    def split(self, name):
        """The relative paths of split "train" or "test"."""
        if name not in registry.SPLITS:
            raise DataError(f"unknown split {name!r}; choose one of "
                            f"{', '.join(registry.SPLITS)}")
        return self.train if name == "train" else self.test


@dataclasses.dataclass(frozen=True)
class FolderInfo(registry.DatasetInfo):
    """The DatasetInfo of a folder; its preprocessing is the spec's fit rule."""

    spec: Optional[FolderSpec] = None

    def preprocessing(self):
        """How a picture becomes a model input; stored in exports (see `preprocessing`)."""
        return preprocessing(str(self.spec))


def is_spec(name):
    """True when `name` is an image folder spec (starts with "images:")."""
    return isinstance(name, str) and name.startswith(PREFIX)


def parse_size(text):
    """Parses "HxW" or "N" (square) into (H, W) of positive ints.

    Raises:
        DataError: for anything else.
    """
    parts = str(text).lower().split("x")
    try:
        size = tuple(int(part) for part in parts)
    except ValueError:
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise DataError(f"bad size {text!r}; expected HxW or N, e.g. 64x64")
    return size


def parse(name):
    """Parses an `images:PATH?option=value&...` spec.

    Raises:
        DataError: for a spec without a folder, an unknown option or a bad value.
    """
    if not is_spec(name):
        raise DataError(f"{name!r} is not an image folder spec (images:PATH)")
    path, _, query = name[len(PREFIX):].partition("?")
    if not path:
        raise DataError(f"{name!r} names no folder; write images:PATH")
    fields = {}
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        if key not in _OPTIONS:
            raise DataError(f"unknown option {key!r} in {name!r}; options: "
                            f"{', '.join(_OPTIONS)}")
        fields[key] = value
    spec = FolderSpec(path)
    if "size" in fields:
        spec = dataclasses.replace(spec, size=parse_size(fields["size"]))
    if "crop" in fields:
        if fields["crop"] not in images.FIT_RULES:
            raise DataError(f"unknown crop rule {fields['crop']!r} in {name!r}; choose one "
                            f"of {', '.join(images.FIT_RULES)}")
        spec = dataclasses.replace(spec, crop=fields["crop"])
    if "skip_bad" in fields:
        if fields["skip_bad"] not in ("0", "1"):
            raise DataError(f"skip_bad must be 0 or 1 in {name!r}")
        spec = dataclasses.replace(spec, skip_bad=fields["skip_bad"] == "1")
    if "test" in fields:
        try:
            share = float(fields["test"])
        except ValueError:
            share = -1.0
        if not 0.0 <= share < 1.0:
            raise DataError(f"test must be a share in [0, 1), e.g. test=0.3, in {name!r}")
        spec = dataclasses.replace(spec, test=share)
    return spec


def complete(name, size):
    """The full spec of a folder for a model of input `size`; other names unchanged.

    The path becomes absolute (local paths), so a run resumes from any folder.

    Args:
        name: a dataset name or an `images:PATH?...` spec.
        size: (H, W) of the model input.

    Raises:
        DataError: when the spec names another size than the model's.
    """
    if not is_spec(name):
        return name
    spec = parse(name)
    size = tuple(int(s) for s in size)
    if spec.size is not None and spec.size != size:
        raise DataError(f"{name!r} asks for size {spec.size[0]}x{spec.size[1]} but the model "
                        f"takes {size[0]}x{size[1]}")
    path = spec.path if "://" in spec.path else os.path.abspath(spec.path)
    return str(dataclasses.replace(spec, path=path, size=size))


def preprocessing(name):
    """How a picture of the folder becomes a model input, without reading the folder.

    Returns:
        dict: "source" "image folder", "fit" the crop rule, "crop" None (no fixed
        window), "resize" [H, W], "resize_method", "channels" 3 and "source_size" None.
    """
    spec = _sized(name)
    return {"source": "image folder", "fit": spec.crop, "crop": None, "source_size": None,
            "resize": list(spec.size), "resize_method": "bilinear, antialiased",
            "channels": 3}


def is_test_file(relative_path, share=TEST_FRACTION):
    """True when a file (path relative to the folder, "/"-separated) is in the test split
    of a folder that holds out `share` of its pictures."""
    digest = hashlib.sha1(relative_path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") < share * 2.0 ** 64


def check_split(info, split, asked):
    """How many pictures of a folder's split to read when `asked` are wanted.

    Args:
        info: the folder's FolderInfo.
        split: "train" or "test".
        asked: pictures wanted.

    Returns:
        min(asked, pictures in the split).

    Raises:
        DataError: when the split is empty, giving the counts and the ways out.
    """
    have = info.test_size if split == "test" else info.train_size
    if have > 0:
        return min(asked, have)
    total = info.train_size + info.test_size
    spec = info.spec
    if split == "test":
        raise DataError(
            f"image folder {spec.path} has no test picture: {info.train_size} of its {total} "
            f"pictures are for training, {info.test_size} held out (a picture is held out "
            f"when the hash of its path falls in the lowest {spec.test:.0%}); score the "
            f"training pictures with --split=train, or hold out more with the spec option "
            f"test=F, e.g. --dataset='images:{spec.path}?test=0.4'")
    raise DataError(f"image folder {spec.path} has no training picture: all {total} are "
                    f"held out for testing; lower the spec's test share (test=F)")


def list_pictures(root):
    """Relative "/"-separated paths of the PNG/JPEG files under root, sorted.

    Raises:
        DataError: when root is not a folder or holds no such file.
    """
    if not tf.io.gfile.isdir(root):
        raise DataError(f"image folder {root} does not exist")
    found = []
    for folder, subfolders, names in tf.io.gfile.walk(root):
        subfolders[:] = [s for s in subfolders if not s.startswith(".")]
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in names:
            if name.lower().endswith(EXTENSIONS) and not name.startswith("."):
                found.append(name if relative == "." else posixpath.join(relative, name))
    if not found:
        raise DataError(f"image folder {root} holds no .png, .jpg or .jpeg files")
    return sorted(found)


_CHECKED = {}  # (path, bytes, mtime) -> (height, width) or the reason it cannot be read.


def check_picture(path):
    """Decodes a picture once per version of the file.

    Returns:
        (height, width), or a one-line reason (str) why it cannot be decoded.
    """
    stat = tf.io.gfile.stat(path)
    key = (path, stat.length, stat.mtime_nsec)
    if key not in _CHECKED:
        try:
            image = tf.io.decode_image(tf.io.read_file(path), channels=3,
                                       expand_animations=False)
            _CHECKED[key] = tuple(int(d) for d in image.shape[:2])
        except tf.errors.OpError as e:
            lines = str(e.message).strip().splitlines()
            line = (lines[0] if lines else type(e).__name__).split(" [Op:")[0]
            _CHECKED[key] = re.sub(r"\{\{[^}]*\}\}\s*", "", line).rstrip(".")
    return _CHECKED[key]


def scan(name):
    """Lists, checks and splits the pictures of a folder spec; reads masks.npz if present.

    Raises:
        DataError: missing or empty folder, a file that cannot be decoded (unless
            skip_bad), or ground truth that does not match the pictures.
    """
    spec = parse(name)
    root = spec.path
    good, skipped, shapes = [], [], {}
    for relative in list_pictures(root):
        found = check_picture(os.path.join(root, relative))
        if isinstance(found, str):
            if not spec.skip_bad:
                raise DataError(f"{os.path.join(root, relative)}: cannot decode as PNG/JPEG "
                                f"({found}); remove it or add ?skip_bad=1 to the spec")
            skipped.append((relative, found))
        else:
            good.append(relative)
            shapes[relative] = found
    if skipped:
        logging.warning("%s: skipped %d file(s) that cannot be decoded (first: %s)", root,
                        len(skipped), skipped[0][0])
    if not good:
        raise DataError(f"image folder {root} holds no picture that can be decoded")
    truth = _read_ground_truth(root, shapes)
    test = tuple(r for r in good if is_test_file(r, spec.test))
    train = tuple(r for r in good if not is_test_file(r, spec.test))
    return Contents(root, train, test, tuple(skipped), truth)


def _read_ground_truth(root, shapes):
    """GroundTruth of masks.npz under root, checked against the pictures, or None."""
    path = os.path.join(root, MASKS_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, "rb") as f, np.load(f) as npz:
        names = [str(n) for n in npz["files"]]
        ids = np.asarray(npz["ids"], np.uint8)  # [N, h, w]
        num_entities, num_background = int(npz["num_entities"]), int(npz["num_background"])
    rows = {n: i for i, n in enumerate(names)}
    for relative, shape in shapes.items():
        if relative not in rows:
            raise DataError(f"{path} has no mask for {relative}; every picture needs one")
        if tuple(ids.shape[1:]) != shape:
            raise DataError(f"{path}: masks are {ids.shape[1]}x{ids.shape[2]} but "
                            f"{relative} is {shape[0]}x{shape[1]}")
    if ids.size and int(ids.max()) >= num_entities:
        raise DataError(f"{path}: entity id {int(ids.max())} >= num_entities {num_entities}")
    return GroundTruth(rows, ids, num_entities, num_background)


def info(name):
    """The DatasetInfo of a folder spec (scans the folder).

    Raises:
        DataError: see `scan`, and a spec without a size.
    """
    spec = _sized(name)
    contents = scan(name)
    truth = contents.ground_truth
    file_format = FolderFormat(spec.path, spec.size, truth.num_entities if truth else 0)
    return FolderInfo(str(spec), file_format, num_background=truth.num_background
                      if truth else 1, train_size=len(contents.train),
                      test_size=len(contents.test), resolution=spec.size, spec=spec)


def read_dataset(name, split, num_examples=None, start_index=0):
    """The pictures of a split in sorted order, as model-ready elements.

    Args:
        name: a folder spec with its size.
        split: "train" or "test".
        num_examples: pictures to read; None: the rest of the split.
        start_index: index of the first picture within the split.

    Returns:
        An unbatched dataset of dicts: "image" float32 [H, W, 3] in [-1, 1], "file"
        string [] (path relative to the folder), plus "mask" uint8 [K, H, W, 1] and
        "num_objects" int32 [] when the folder has ground truth.

    Raises:
        DataError: see `info`, and a range outside the split.
    """
    spec, contents = _sized(name), scan(name)
    names = contents.split(split)
    if start_index < 0 or (num_examples is not None and num_examples < 0):
        raise DataError(f"start_index ({start_index}) and num_examples ({num_examples}) "
                        "must be >= 0")
    end = len(names) if num_examples is None else start_index + num_examples
    if end > len(names):
        raise DataError(f"image folder {spec.path} has {len(names)} {split} pictures; "
                        f"asked for pictures {start_index} to {end - 1}")
    load = _loader(spec, contents, names)
    return tf.data.Dataset.range(start_index, end).map(load,
                                                        num_parallel_calls=tf.data.AUTOTUNE)


def read_train_stream(name, *, seed=0, shuffle=True, start_position=0):
    """The train pictures epoch after epoch (an infinite stream), for training.

    Args:
        name: a folder spec with its size.
        seed: int >= 0, seed of the per-epoch permutation.
        shuffle: permute the pictures anew each epoch; False: sorted order.
        start_position: position of the first element (epoch * train pictures + rank).

    Returns:
        A dataset of model-ready elements (see `read_dataset`) plus "position" int64 [].

    Raises:
        DataError: see `info`, no train pictures, or a negative start_position.
    """
    spec, contents = _sized(name), scan(name)
    size = len(contents.train)
    if size < 1 or start_position < 0:
        raise DataError(f"image folder {spec.path}: {size} train pictures (need >= 1), "
                        f"start_position {start_position} (need >= 0)")
    first_epoch, first_rank = divmod(int(start_position), size)
    load = _loader(spec, contents, contents.train)
    size64 = tf.constant(size, tf.int64)

    def epoch_elements(epoch):  # epoch: int64 [] -> (position, picture index) pairs
        order = tf.range(size64)  # [n]
        if shuffle:
            key = tf.stack([tf.cast(seed, tf.int64), epoch])  # [2]
            order = tf.cast(tf.argsort(tf.random.stateless_uniform([size], key)),
                            tf.int64)  # [n]
        first = tf.where(epoch == first_epoch, tf.constant(first_rank, tf.int64), 0)
        ranks = tf.range(first, size64)  # [n - first]
        return tf.data.Dataset.from_tensor_slices((epoch * size64 + ranks,
                                                   tf.gather(order, ranks)))

    def with_position(position, index):
        return dict(load(index), position=position)

    stream = tf.data.Dataset.counter(first_epoch).flat_map(epoch_elements)
    return stream.map(with_position, num_parallel_calls=tf.data.AUTOTUNE)


def _sized(name):
    """The parsed spec; raises DataError when it has no size."""
    spec = parse(name)
    if spec.size is None:
        raise DataError(f"{name!r} does not say the model's input size; add ?size=HxW "
                        "(train.py adds it from the model)")
    return spec


def _loader(spec, contents, names):
    """A tf function: index into `names` (int64 []) -> model-ready element."""
    paths = tf.constant([os.path.join(contents.root, n) for n in names] or [""])
    relative = tf.constant(list(names) or [""])
    truth = contents.ground_truth
    if truth is not None:
        rows = tf.constant([truth.rows[n] for n in names] or [0], tf.int32)
        ids = tf.constant(truth.ids)  # [N, h, w]

    def load(index):
        data = tf.io.read_file(paths[index])
        picture = tf.io.decode_image(data, channels=3, expand_animations=False)  # [h, w, 3]
        fitted = images.fit_image(picture, spec.size, spec.crop)  # [H, W, 3] float
        raw = {"image": tf.cast(tf.clip_by_value(tf.round(fitted), 0, 255), tf.uint8)}
        if truth is None:
            return {"image": images.to_model_range(raw["image"]), "file": relative[index]}
        entity = images.fit_image(ids[rows[index]][..., None], spec.size, spec.crop,
                                  method="nearest")[..., 0]  # [H, W] float ids
        one_hot = tf.one_hot(tf.cast(entity, tf.int32), truth.num_entities,
                             dtype=tf.uint8) * 255  # [H, W, K]
        raw["mask"] = tf.transpose(one_hot, [2, 0, 1])[..., None]  # [K, H, W, 1]
        return dict(to_model_ready(raw, truth.num_background), file=relative[index])

    return load
