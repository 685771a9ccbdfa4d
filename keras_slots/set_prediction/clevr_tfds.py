"""CLEVR v1 through tensorflow-datasets, as the paper's set-prediction experiments read it.

`tfds.load("clevr:3.1.0")` from a folder where TFDS prepared the dataset (the 18 GB
download is not done here unless asked for), the official filter (scenes with at most 10
objects; CLEVR has 3 to 10, so it keeps every annotated scene), every image resized to
128x128 without crop, and the objects encoded in the 19-number target layout. The TFDS
integer labels are the one-hot positions of `targets.PROPERTIES`. Note that CLEVR's
"test" split has no scene annotations: its targets are all padding.
"""

import tensorflow as tf
import tensorflow_datasets as tfds

from keras_slots.set_prediction import images, targets

TFDS_NAME = "clevr:3.1.0"


class TfdsDataError(ValueError):
    """Raised when CLEVR cannot be read through tensorflow-datasets."""


def at_most_objects(example, max_objects=targets.MAX_OBJECTS):
    """Filter predicate: True when the TFDS example has at most `max_objects` objects."""
    num_objects = tf.shape(example["objects"]["3d_coords"])[0]
    return tf.less_equal(num_objects, max_objects)


def to_example(example, resolution=images.RESOLUTION, max_objects=targets.MAX_OBJECTS):
    """Turns a decoded TFDS CLEVR example into a model-ready one.

    Args:
        example: TFDS clevr:3.1.0 example: "image" uint8 [H, W, 3] and "objects" with
            "3d_coords" float [n, 3], "size", "material", "shape", "color" int64 [n].
        resolution: image size of the result.
        max_objects: rows of the target set (n must not exceed it).

    Returns:
        dict: "image" float32 [H', W', 3] in [-1, 1], "target" float32 [max_objects, 19].
    """
    objects = example["objects"]
    target = targets.encode(objects["3d_coords"], objects["size"], objects["material"],
                            objects["shape"], objects["color"], max_objects)
    return {"image": images.preprocess_image(example["image"], resolution), "target": target}


def load(split="train", data_dir=None, *, resolution=images.RESOLUTION,
         max_objects=targets.MAX_OBJECTS, shuffle_files=False, download=False):
    """Reads CLEVR v1 through tensorflow-datasets.

    Args:
        split: a TFDS split of clevr:3.1.0 ("train", "validation", "test"), slices
            included (e.g. "train[:512]").
        data_dir: folder where TFDS prepared clevr:3.1.0 (None: TFDS's default folder).
        resolution: image size (paper: 128x128).
        max_objects: scenes with more objects are dropped; also the rows of the target.
        shuffle_files: shuffle the order of the TFDS files (training).
        download: let TFDS download (18 GB) and prepare the dataset if it is missing.

    Returns:
        Unbatched tf.data.Dataset of {"image": float32 [H, W, 3] in [-1, 1], "target":
        float32 [max_objects, 19]}.
    """
    try:
        dataset = tfds.load(TFDS_NAME, split=split, data_dir=data_dir,
                            shuffle_files=shuffle_files, download=download)
    except AssertionError as error:  # TFDS's "could not find data in ..."
        raise TfdsDataError(
            f"{TFDS_NAME} is not prepared under data_dir={data_dir!r}; prepare it there with "
            "tensorflow-datasets (`tfds build clevr`) or pass download=True") from error
    dataset = dataset.filter(lambda example: at_most_objects(example, max_objects))
    return dataset.map(lambda example: to_example(example, resolution, max_objects),
                       num_parallel_calls=tf.data.AUTOTUNE)


def load_train_stream(data_dir=None, *, seed=0, start_position=0, shuffle=True,
                      shuffle_buffer=4096, resolution=images.RESOLUTION,
                      max_objects=targets.MAX_OBJECTS):
    """The train split repeated forever, each example with its "position" in the stream.

    Images are decoded after the first start_position examples are skipped, so resuming a
    long run costs a read of the skipped records, not their decoding. The order is fixed by
    `seed` (file order and shuffle buffer), so a resume continues the same stream.

    Args:
        data_dir: folder where TFDS prepared clevr:3.1.0.
        seed: seed of the file order and of the shuffle buffer.
        start_position: examples of the stream to skip.
        shuffle: shuffle the files and the examples (a buffer of `shuffle_buffer`).
        shuffle_buffer: examples in the shuffle buffer.
        resolution: image size (paper: 128x128).
        max_objects: scenes with more objects are dropped; rows of each target.

    Returns:
        Dataset of {"image": float32 [H, W, 3], "target": float32 [max_objects, 19],
        "position": int64 []}.
    """
    read_config = tfds.ReadConfig(shuffle_seed=seed)
    try:
        dataset = tfds.load(TFDS_NAME, split="train", data_dir=data_dir,
                            shuffle_files=shuffle, read_config=read_config,
                            decoders={"image": tfds.decode.SkipDecoding()})
    except AssertionError as error:
        raise TfdsDataError(
            f"{TFDS_NAME} is not prepared under data_dir={data_dir!r}; prepare it there with "
            "tensorflow-datasets (`tfds build clevr`)") from error
    encoded = dataset.element_spec["image"].dtype == tf.string  # A mock may decode anyway.
    dataset = dataset.filter(lambda example: at_most_objects(example, max_objects)).repeat()
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)

    def to_positioned_example(position, example):
        if encoded:
            example = dict(example, image=tf.io.decode_image(example["image"], channels=3,
                                                             expand_animations=False))
        return dict(to_example(example, resolution, max_objects), position=position)

    dataset = dataset.enumerate().skip(start_position)
    return dataset.map(to_positioned_example, num_parallel_calls=tf.data.AUTOTUNE)
