"""Which CLEVR source a set-prediction run reads, chosen by its data_dir.

    data_dir unset                      the built-in CLEVR renderer (offline)
    <dir>/scenes/CLEVR_*_scenes.json    the CLEVR v1 download layout (`clevr_files`)
    any other folder                    a tensorflow-datasets data_dir where clevr:3.1.0
                                        is prepared (`clevr_tfds`)

Every source yields the same elements: "image" float32 [H, W, 3] in [-1, 1] and "target"
float32 [10, 19]. Splits are "train" and "test", the held-out scenes WITH annotations:
the renderer's test split, TFDS "validation", the download's "val" (CLEVR's own test
split has no scenes).
"""

import tensorflow as tf

from keras_slots.set_prediction import builtin, clevr_files, clevr_tfds, images

DATASET = "clevr"  # The dataset name of set-prediction configs.
BUILTIN, FILES, TFDS = "built-in renderer", "CLEVR v1 files", "tensorflow-datasets"
SPLIT_NAMES = {  # Our split -> the split of each source.
    BUILTIN: {"train": "train", "test": "test"},
    FILES: {"train": "train", "test": "val"},
    TFDS: {"train": "train", "test": "validation"},
}
TFDS_SHUFFLE_BUFFER = 4096  # Examples mixed across TFDS files when shuffling.


def source_of(data_dir):
    """The source a data_dir holds: BUILTIN (None), FILES or TFDS (see module docstring)."""
    if not data_dir:
        return BUILTIN
    for split in ("train", "val"):
        if tf.io.gfile.exists(clevr_files.scenes_path(data_dir, split)):
            return FILES
    return TFDS


def _check_split(split):
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")


def get_dataset(split, data_dir=None, *, seed=0, num_examples=None,
                resolution=images.RESOLUTION):
    """The examples of one split, in a fixed order.

    Args:
        split: "train" or "test" (see module docstring).
        data_dir: None (built-in renderer), a CLEVR_v1.0 folder or a TFDS data_dir.
        seed: seed of the built-in scenes (files and TFDS ignore it).
        num_examples: the first num_examples examples (None: the whole split; the built-in
            "test" split has 320 scenes, its "train" split is infinite).
        resolution: (H, W) of the images.

    Returns:
        Unbatched tf.data.Dataset of {"image": [H, W, 3], "target": [10, 19]}.
    """
    _check_split(split)
    source = source_of(data_dir)
    name = SPLIT_NAMES[source][split]
    if source == BUILTIN:
        return builtin.load(name, seed=seed, num_examples=num_examples, resolution=resolution)
    if source == FILES:
        dataset = clevr_files.load(data_dir, name, resolution=resolution)
    else:
        if num_examples is not None:
            name = f"{name}[:{num_examples}]"
        dataset = clevr_tfds.load(name, data_dir, resolution=resolution)
    return dataset if num_examples is None else dataset.take(num_examples)


def get_train_stream(data_dir=None, *, seed=0, start_position=0, shuffle=True,
                     resolution=images.RESOLUTION):
    """The infinite training stream; every element carries its "position" (int64).

    Positions count the elements of the stream: the element at position p is the one a run
    reads after p others, so `start_position` = the position after the last element
    consumed resumes the stream. Built-in: scene p of the renderer's train split. Files:
    epoch p // S (S train scenes) in an order shuffled from (seed, epoch), exactly resumed.
    TFDS: file order and a 4096-example shuffle buffer seeded by `seed`, repeated; a
    resume skips the first start_position examples without decoding their images.

    Args:
        data_dir: None (built-in renderer), a CLEVR_v1.0 folder or a TFDS data_dir.
        seed: seed of the scenes (built-in) or of the shuffle (files, TFDS).
        start_position: position of the first element.
        shuffle: shuffle files and TFDS examples (built-in scenes are fresh anyway).
        resolution: (H, W) of the images.

    Returns:
        Dataset of {"image", "target", "position"}.
    """
    source = source_of(data_dir)
    if source == BUILTIN:
        stream = builtin.load("train", seed=seed, start_index=start_position,
                              resolution=resolution)
        return stream.enumerate(start_position).map(lambda i, e: dict(e, position=i))
    if source == FILES:
        return _files_stream(data_dir, seed, start_position, shuffle, resolution)
    return clevr_tfds.load_train_stream(data_dir, seed=seed, start_position=start_position,
                                        shuffle=shuffle, shuffle_buffer=TFDS_SHUFFLE_BUFFER,
                                        resolution=resolution)


def _files_stream(root, seed, start_position, shuffle, resolution):
    """Epochs of the download's train split, each in its own seeded order."""
    paths, rows = clevr_files.read_scenes(root, "train")
    size = len(paths)
    if size == 0:
        raise clevr_files.ClevrFilesError(f"{clevr_files.scenes_path(root, 'train')} holds "
                                          "no scenes")
    paths, rows = tf.constant(paths), tf.constant(rows)  # [S], [S, 10, 19]

    def epoch(index):  # int64 [] -> dataset of (position, scene index)
        order = tf.range(size, dtype=tf.int64)
        if shuffle:
            seeds = tf.stack([tf.cast(seed, tf.int64), index])
            order = tf.random.experimental.stateless_shuffle(order, seed=seeds)  # [S]
        positions = index * size + tf.range(size, dtype=tf.int64)  # [S]
        return tf.data.Dataset.from_tensor_slices((positions, order))

    def to_example(position, index):
        image = tf.io.decode_png(tf.io.read_file(paths[index]), channels=3)  # [h, w, 3]
        return {"image": images.preprocess_image(image, resolution), "target": rows[index],
                "position": position}

    stream = tf.data.Dataset.counter(start_position // size).flat_map(epoch)
    return stream.skip(start_position % size).map(to_example,
                                                   num_parallel_calls=tf.data.AUTOTUNE)
