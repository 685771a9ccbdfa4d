"""Tests for keras_slots.data.records: published TFRecord layout, splits, CLEVR6, errors."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_slots.data import formats
from keras_slots.data import records
from keras_slots.data import registry
from keras_slots.data.pipeline import get_dataset

# The published feature specs, typed here from DeepMind's multi_object_datasets readers
# independently of formats.py: file -> (K, image [H, W, C], mask layout, float features,
# byte attributes). Multi-dSprites masks are [H, W, K, 1] on disk.
B, F = "bytes", "float"


def _published():
    def tetrominoes():
        return {"image": ((35, 35, 3), B), "mask": ((4, 35, 35, 1), B),
                "x": ((4,), F), "y": ((4,), F), "shape": ((4,), F), "color": ((4, 3), F),
                "visibility": ((4,), F)}

    def dsprites(k, c):
        return {"image": ((64, 64, c), B), "mask": ((64, 64, k, 1), B),
                "x": ((k,), F), "y": ((k,), F), "shape": ((k,), F), "color": ((k, c), F),
                "visibility": ((k,), F), "orientation": ((k,), F), "scale": ((k,), F)}

    def room(k):
        return {"image": ((64, 64, 3), B), "mask": ((k, 64, 64, 1), B)}

    clevr = {"image": ((240, 320, 3), B), "mask": ((11, 240, 320, 1), B),
             "x": ((11,), F), "y": ((11,), F), "z": ((11,), F),
             "pixel_coords": ((11, 3), F), "rotation": ((11,), F), "size": ((11,), B),
             "material": ((11,), B), "shape": ((11,), B), "color": ((11,), B),
             "visibility": ((11,), F)}
    return {
        "clevr_with_masks": ("clevr_with_masks_train.tfrecords", clevr),
        "clevr6": ("clevr_with_masks_train.tfrecords", clevr),
        "multi_dsprites_binarized": ("multi_dsprites_binarized.tfrecords", dsprites(4, 1)),
        "multi_dsprites_colored_on_grayscale": (
            "multi_dsprites_colored_on_grayscale.tfrecords", dsprites(6, 3)),
        "multi_dsprites_colored_on_colored": (
            "multi_dsprites_colored_on_colored.tfrecords", dsprites(5, 3)),
        "tetrominoes": ("tetrominoes_train.tfrecords", tetrominoes()),
        "objects_room": ("objects_room_train.tfrecords", room(7)),
        "objects_room_six_objects": ("objects_room_test_six_objects.tfrecords", room(10)),
        "objects_room_empty_room": ("objects_room_test_empty_room.tfrecords", room(4)),
        "objects_room_identical_color": (
            "objects_room_test_identical_color.tfrecords", room(10)),
    }


PUBLISHED = _published()
MASKS_LAST = {"multi_dsprites_binarized", "multi_dsprites_colored_on_grayscale",
              "multi_dsprites_colored_on_colored"}
ALL_NAMES = sorted(PUBLISHED)
# CLEVR records hold ~1M one-byte strings; other formats are cheap. "clevr6" shares the
# clevr_with_masks file and has its own test.
FILE_NAMES = [name for name in ALL_NAMES if name != "clevr6"]
FAST_NAMES = [name for name in ALL_NAMES if not name.startswith("clevr")]


def _disk_scene(name, rng):
    """Random arrays in the ON-DISK layout of `name`; masks are a 0/255 partition."""
    _, spec = PUBLISHED[name]
    scene = {}
    for key, (shape, kind) in spec.items():
        if key == "mask":
            k = shape[2] if name in MASKS_LAST else shape[0]
            height, width = PUBLISHED[name][1]["image"][0][:2]
            labels = rng.integers(0, k, size=(height, width))
            labels[0, 0] = 0
            labels[-1, -1] = k - 1
            memory = (np.arange(k)[:, None, None] == labels)[..., None]  # [K, H, W, 1]
            memory = memory.astype(np.uint8) * 255
            scene[key] = memory.transpose(1, 2, 0, 3) if name in MASKS_LAST else memory
        elif kind == B:
            scene[key] = rng.integers(0, 256, size=shape, dtype=np.uint8)
        else:
            scene[key] = rng.normal(size=shape).astype(np.float32)
    return scene


def _to_memory(name, disk):
    """Raw scene (object-first masks) of an on-disk scene."""
    scene = dict(disk)
    if name in MASKS_LAST:
        scene["mask"] = disk["mask"].transpose(2, 0, 1, 3)  # [K, H, W, 1]
    return scene


def _hand_example(name, disk):
    """tf.train.Example built feature by feature: one 1-byte string per uint8 element."""
    feature = {}
    for key, (_, kind) in PUBLISHED[name][1].items():
        if kind == B:
            values = [bytes([int(v)]) for v in disk[key].reshape(-1)]
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        else:
            values = disk[key].reshape(-1).tolist()
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _write_examples(path, examples):
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for example in examples:
            writer.write(example if isinstance(example, bytes)
                         else example.SerializeToString())


def _expected_element(name, disk):
    """Model-ready element computed in numpy from an on-disk scene."""
    scene = _to_memory(name, disk)
    image = scene["image"]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    expected = dict(scene)
    expected["image"] = image.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    first_object = 4 if name.startswith("objects_room") else 1  # sky, floor, 2 walls
    expected["num_objects"] = int((scene["mask"][first_object:] > 0).any(axis=(1, 2, 3)).sum())
    return expected


def _assert_elements_equal(element, expected):
    assert sorted(element) == sorted(expected)
    for key, value in expected.items():
        got = element[key].numpy()
        assert got.dtype == np.asarray(value).dtype or key == "num_objects", key
        np.testing.assert_array_equal(got, value, err_msg=key)
    assert element["image"].dtype == tf.float32
    assert element["mask"].dtype == tf.uint8
    assert element["num_objects"].dtype == tf.int32


def _split(name):
    return registry.get(name).splits[0]


def test_formats_match_published_specs():
    assert sorted(registry.DATASETS) == ALL_NAMES
    for name, (file_name, spec) in PUBLISHED.items():
        fmt = registry.get(name).file_format
        assert fmt.file_name == file_name
        assert {key: (f.shape, f.kind) for key, f in fmt.features.items()} == spec, name
        assert fmt.masks_last == (name in MASKS_LAST)
        k = spec["mask"][0][2] if name in MASKS_LAST else spec["mask"][0][0]
        assert fmt.max_num_entities == k
        assert fmt.image_size == spec["image"][0][:2]


@pytest.mark.parametrize("name", FILE_NAMES)
def test_hand_built_records_decode_exactly(name, tmp_path):
    rng = np.random.default_rng(0)
    num = 1 if name.startswith("clevr") else 3
    disks = [_disk_scene(name, rng) for _ in range(num)]
    _write_examples(tmp_path / PUBLISHED[name][0], [_hand_example(name, d) for d in disks])

    dataset = records.read_dataset(name, _split(name), tmp_path, train_size=num)
    elements = list(dataset)
    assert len(elements) == num
    for element, disk in zip(elements, disks):
        _assert_elements_equal(element, _expected_element(name, disk))


@pytest.mark.parametrize("name", FILE_NAMES)
def test_write_records_matches_the_published_reader(name, tmp_path):
    """Files from write_records decode the DeepMind way (FixedLenFeature + decode_raw)."""
    rng = np.random.default_rng(1)
    num = 1 if name.startswith("clevr") else 3
    disks = [_disk_scene(name, rng) for _ in range(num)]
    path = tmp_path / PUBLISHED[name][0]
    written = records.write_records(str(path), [_to_memory(name, d) for d in disks], name)
    assert written == num
    assert sorted(os.listdir(tmp_path)) == [PUBLISHED[name][0]]  # No temporary left.

    spec = {key: tf.io.FixedLenFeature(shape, tf.string if kind == B else tf.float32)
            for key, (shape, kind) in PUBLISHED[name][1].items()}
    raw = list(tf.data.TFRecordDataset(str(path), compression_type="GZIP"))
    assert len(raw) == num
    for serialized, disk in zip(raw, disks):
        parsed = tf.io.parse_single_example(serialized, spec)
        for key, (_, kind) in PUBLISHED[name][1].items():
            value = parsed[key]
            if kind == B:
                value = tf.squeeze(tf.io.decode_raw(value, tf.uint8), axis=-1)
            np.testing.assert_array_equal(value.numpy(), disk[key], err_msg=key)


@pytest.mark.parametrize("name", FAST_NAMES)
def test_round_trip_and_splits(name, tmp_path):
    rng = np.random.default_rng(2)
    disks = [_disk_scene(name, rng) for _ in range(5)]
    path = tmp_path / PUBLISHED[name][0]
    records.write_records(path, [_to_memory(name, d) for d in disks], registry.get(name).file_format)

    if registry.get(name).test_only:  # The whole file is the test set.
        chosen = {"test": list(range(5))}
        with pytest.raises(ValueError, match="test set"):
            records.read_dataset(name, "train", tmp_path)
    else:
        chosen = {"train": [0, 1, 2], "test": [3, 4]}
    for split, indices in chosen.items():
        elements = list(records.read_dataset(name, split, tmp_path, train_size=3,
                                             test_size=2))
        assert len(elements) == len(indices)
        for element, index in zip(elements, indices):
            _assert_elements_equal(element, _expected_element(name, disks[index]))


def test_grayscale_scene_with_three_equal_channels_is_stored_as_one(tmp_path):
    rng = np.random.default_rng(3)
    disk = _disk_scene("multi_dsprites_binarized", rng)
    scene = _to_memory("multi_dsprites_binarized", disk)
    scene["image"] = np.repeat(disk["image"], 3, axis=-1)  # [64, 64, 3]
    scene["color"] = np.repeat(disk["color"], 3, axis=-1)  # [4, 3]
    records.write_records(tmp_path / "multi_dsprites_binarized.tfrecords", [scene],
                          "multi_dsprites_binarized")
    element = next(iter(records.read_dataset("multi_dsprites_binarized", "train",
                                             tmp_path, train_size=1)))
    _assert_elements_equal(element, _expected_element("multi_dsprites_binarized", disk))
    scene["image"][0, 0, 1] ^= 1
    with pytest.raises(ValueError, match="channels differ"):
        records.write_records(tmp_path / "x.tfrecords", [scene], "multi_dsprites_binarized")


def test_multi_dsprites_masks_are_entity_third_on_disk(tmp_path):
    k = 5
    mask = np.zeros((k, 64, 64, 1), np.uint8)  # [K, H, W, 1], object-first in memory
    for entity in range(k):
        mask[entity, entity * 10:entity * 10 + 10] = 255  # Entity e covers rows 10e..10e+9.
    mask[0, 50:] = 255
    disk = _disk_scene("multi_dsprites_colored_on_colored", np.random.default_rng(4))
    scene = _to_memory("multi_dsprites_colored_on_colored", disk)
    scene["mask"] = mask
    path = tmp_path / "multi_dsprites_colored_on_colored.tfrecords"
    records.write_records(path, [scene], "multi_dsprites_colored_on_colored")

    serialized = next(iter(tf.data.TFRecordDataset(str(path), compression_type="GZIP")))
    example = tf.train.Example.FromString(serialized.numpy())
    stored = np.array([v[0] for v in example.features.feature["mask"].bytes_list.value],
                      np.uint8).reshape(64, 64, k, 1)  # [H, W, K, 1] on disk
    assert stored[15, 3, 1, 0] == 255 and stored[15, 3, 0, 0] == 0  # Row 15 is entity 1.
    assert stored[55, 0, 0, 0] == 255
    element = next(iter(records.read_dataset("multi_dsprites_colored_on_colored", "train",
                                             tmp_path, train_size=1)))
    np.testing.assert_array_equal(element["mask"].numpy(), mask)
    assert int(element["num_objects"]) == 4


def _bilinear_half_pixel(image, size):
    """Independent numpy bilinear resize with half-pixel centres (no antialiasing)."""
    def weights(out_size, in_size):
        src = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
        src = np.clip(src, 0, in_size - 1)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, in_size - 1)
        return low, high, src - low

    rows, cols = weights(size, image.shape[0]), weights(size, image.shape[1])
    image = image.astype(np.float64)
    top = image[rows[0]] * (1 - rows[2])[:, None, None] + image[rows[1]] * rows[2][:, None, None]
    return (top[:, cols[0]] * (1 - cols[2])[None, :, None]
            + top[:, cols[1]] * cols[2][None, :, None])


def _clevr_scene(rng, boxes):
    """A 240x320 CLEVR raw scene whose objects are the given (r0, r1, c0, c1) boxes."""
    labels = np.zeros((240, 320), np.int64)
    for entity, (r0, r1, c0, c1) in enumerate(boxes, start=1):
        labels[r0:r1, c0:c1] = entity
    mask = ((np.arange(11)[:, None, None] == labels)[..., None] * 255).astype(np.uint8)
    scene = {key: rng.normal(size=f.shape).astype(np.float32)
             for key, f in formats.CLEVR_WITH_MASKS.features.items() if f.kind == "float"}
    for key in ("size", "material", "shape", "color"):
        scene[key] = rng.integers(0, 8, size=11, dtype=np.uint8)
    scene["image"] = rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    scene["mask"] = mask
    return scene


def test_clevr6_filters_crops_and_resizes(tmp_path):
    rng = np.random.default_rng(5)
    six = [(40 + 25 * i, 60 + 25 * i, 80 + 25 * i, 100 + 25 * i) for i in range(6)]
    seven = six + [(200, 210, 200, 210)]
    # Three objects, one of them (cols 5:20) outside the crop: counts for the filter only.
    three = [(40, 70, 70, 100), (100, 130, 150, 190), (100, 120, 5, 20)]
    scenes = [_clevr_scene(rng, boxes) for boxes in (six, seven, three, six)]
    records.write_records(tmp_path / "clevr_with_masks_train.tfrecords", scenes,
                          "clevr_with_masks")

    elements = list(records.read_dataset("clevr6", "train", tmp_path, train_size=3,
                                         test_size=1))
    assert len(elements) == 2  # Scene 1 (7 objects) dropped; scene 3 is the test split.
    src = (np.floor((np.arange(128) + 0.5) * 1.5)).astype(int)  # nearest, half-pixel
    for element, scene, num_objects in zip(elements, [scenes[0], scenes[2]], [6, 2]):
        crop = scene["image"][29:221, 64:256]  # [192, 192, 3]
        expected = _bilinear_half_pixel(crop, 128) / 127.5 - 1.0
        np.testing.assert_allclose(element["image"].numpy(), expected, atol=2e-5)
        mask = scene["mask"][:, 29:221, 64:256][:, src][:, :, src]  # [11, 128, 128, 1]
        np.testing.assert_array_equal(element["mask"].numpy(), mask)
        assert int(element["num_objects"]) == num_objects
        np.testing.assert_array_equal(element["shape"].numpy(), scene["shape"])
        assert element["shape"].dtype == tf.uint8
    full = list(records.read_dataset("clevr_with_masks", "train", tmp_path, train_size=3,
                                     test_size=1))
    assert [int(e["num_objects"]) for e in full] == [6, 7, 3]
    assert full[0]["image"].shape == (240, 320, 3)


def test_slicing_with_start_index_and_num_examples(tmp_path):
    rng = np.random.default_rng(6)
    disks = [_disk_scene("tetrominoes", rng) for _ in range(6)]
    records.write_records(tmp_path / "tetrominoes_train.tfrecords",
                          [_to_memory("tetrominoes", d) for d in disks], "tetrominoes")
    elements = list(records.read_dataset("tetrominoes", "train", tmp_path, num_examples=2,
                                         start_index=1, train_size=4))
    for element, index in zip(elements, [1, 2]):
        _assert_elements_equal(element, _expected_element("tetrominoes", disks[index]))
    elements = list(records.read_dataset("tetrominoes", "test", tmp_path, start_index=1,
                                         train_size=4, test_size=2))
    assert len(elements) == 1
    _assert_elements_equal(elements[0], _expected_element("tetrominoes", disks[5]))
    with pytest.raises(ValueError, match="exceeds"):
        records.read_dataset("tetrominoes", "train", tmp_path, num_examples=5, train_size=4)
    with pytest.raises(ValueError, match="unknown split"):
        records.read_dataset("tetrominoes", "valid", tmp_path)
    # Through keras_slots.data.get_dataset (default protocol sizes, first 3 records).
    elements = list(get_dataset("tetrominoes", "train", data_dir=tmp_path, num_examples=3))
    for element, disk in zip(elements, disks):
        _assert_elements_equal(element, _expected_element("tetrominoes", disk))


def test_split_longer_than_file_fails_at_iteration(tmp_path):
    rng = np.random.default_rng(7)
    records.write_records(tmp_path / "tetrominoes_train.tfrecords",
                          [_to_memory("tetrominoes", _disk_scene("tetrominoes", rng))
                           for _ in range(3)], "tetrominoes")
    dataset = records.read_dataset("tetrominoes", "test", tmp_path)  # Records 60000-60319.
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 320"):
        list(dataset)


def test_missing_file(tmp_path):
    with pytest.raises(records.DataError) as info:
        records.read_dataset("objects_room", "train", tmp_path)
    message = str(info.value)
    assert "objects_room" in message
    assert str(tmp_path / "objects_room_train.tfrecords") in message
    assert "\n" not in message


def test_empty_file(tmp_path):
    _write_examples(tmp_path / "tetrominoes_train.tfrecords", [])
    assert (tmp_path / "tetrominoes_train.tfrecords").stat().st_size > 0  # GZIP header.
    with pytest.raises(records.DataError, match="holds no records"):
        records.read_dataset("tetrominoes", "train", tmp_path)
    with pytest.raises(records.DataError, match="holds no records"):
        records.verify_file(str(tmp_path / "tetrominoes_train.tfrecords"), "tetrominoes")
    with pytest.raises(ValueError, match="no scenes"):
        records.write_records(tmp_path / "tetrominoes_train.tfrecords", [], "tetrominoes")


def _tetrominoes_file(tmp_path, num, seed=8):
    rng = np.random.default_rng(seed)
    path = tmp_path / "tetrominoes_train.tfrecords"
    records.write_records(path, [_to_memory("tetrominoes", _disk_scene("tetrominoes", rng))
                                 for _ in range(num)], "tetrominoes")
    return path


def test_truncated_file(tmp_path):
    path = _tetrominoes_file(tmp_path, 8)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    good = 0  # Records before the cut.
    try:
        for _ in tf.data.TFRecordDataset(str(path), compression_type="GZIP"):
            good += 1
    except tf.errors.DataLossError:
        pass
    assert 0 < good < 8

    dataset = records.read_dataset("tetrominoes", "train", tmp_path, train_size=8)
    with pytest.raises(tf.errors.DataLossError):
        list(dataset)
    with pytest.raises(records.DataError,
                       match=f"tetrominoes_train.tfrecords record {good}: truncated"):
        records.verify_file(str(path), "tetrominoes")

    path.write_bytes(data[:40])  # Not even the first record.
    with pytest.raises(records.DataError, match="record 0: truncated or corrupt GZIP"):
        records.read_dataset("tetrominoes", "train", tmp_path)


def test_every_cut_is_reported(tmp_path):
    path = _tetrominoes_file(tmp_path, 4)
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # Every record intact, the GZIP trailer cut.
    with pytest.raises(records.DataError, match="record 4: truncated or corrupt GZIP"):
        records.verify_file(str(path), "tetrominoes")
    for cut in np.linspace(25, len(data) - 40, 9).astype(int):
        path.write_bytes(data[:cut])
        with pytest.raises(records.DataError, match="truncated or corrupt GZIP"):
            records.verify_file(str(path), "tetrominoes")
        try:
            dataset = records.read_dataset("tetrominoes", "train", tmp_path, train_size=4)
        except records.DataError as error:
            assert "record 0: truncated" in str(error)
            continue
        with pytest.raises((tf.errors.DataLossError, tf.errors.FailedPreconditionError)):
            list(dataset)  # Never a silently short split.


def _bad_records(tmp_path, bad_index, mutate):
    """Tetrominoes file of 4 hand-built records, record `bad_index` mutated."""
    rng = np.random.default_rng(9)
    examples = []
    for index in range(4):
        example = _hand_example("tetrominoes", _disk_scene("tetrominoes", rng))
        if index == bad_index:
            mutate(example)
        examples.append(example)
    _write_examples(tmp_path / "tetrominoes_train.tfrecords", examples)
    return str(tmp_path / "tetrominoes_train.tfrecords")


def test_record_with_too_few_bytes(tmp_path):
    def cut_image(example):
        values = example.features.feature["image"].bytes_list.value
        del values[3000:]

    path = _bad_records(tmp_path, 2, cut_image)
    expected = ("tetrominoes_train.tfrecords record 2: feature image has 3000 bytes in 3000 "
                "strings, expected 3675 one-byte strings")
    dataset = records.read_dataset("tetrominoes", "train", tmp_path, train_size=4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
        list(dataset)
    assert len(list(dataset.take(2))) == 2  # Records before the bad one still read.
    with pytest.raises(records.DataError) as info:
        records.verify_file(path, "tetrominoes")
    assert str(info.value) == expected


def test_record_with_multi_byte_strings_and_missing_floats(tmp_path):
    def widen_mask(example):
        values = example.features.feature["mask"].bytes_list.value
        values[7] = b"\xff\xff"

    _bad_records(tmp_path, 0, widen_mask)  # Record 0: caught at construction.
    with pytest.raises(records.DataError,
                       match="record 0: feature mask has 4901 bytes in 4900 strings"):
        records.read_dataset("tetrominoes", "train", tmp_path)

    def drop_x(example):
        del example.features.feature["x"]

    path = _bad_records(tmp_path, 3, drop_x)
    with pytest.raises(records.DataError, match="record 3: feature x has 0 floats, expected 4"):
        records.verify_file(path, "tetrominoes")
    assert records.verify_file(str(_tetrominoes_file(tmp_path, 3)), "tetrominoes") == 3


def test_wrong_feature_type_and_garbage_file(tmp_path):
    def int_x(example):
        del example.features.feature["x"]
        example.features.feature["x"].int64_list.value.extend([1, 2, 3, 4])

    _bad_records(tmp_path, 0, int_x)
    with pytest.raises(records.DataError) as info:
        records.read_dataset("tetrominoes", "train", tmp_path)
    assert str(info.value) == ("tetrominoes_train.tfrecords record 0: cannot parse the "
                               "Example (Key: x.  Data types don't match. Expected type: "
                               "float, Actual type: int64)")
    (tmp_path / "tetrominoes_train.tfrecords").write_bytes(b"not gzip at all" * 10)
    with pytest.raises(records.DataError,
                       match="record 0: truncated or corrupt GZIP data .*header"):
        records.read_dataset("tetrominoes", "train", tmp_path)


def test_write_records_rejects_bad_scenes_and_leaves_no_file(tmp_path):
    rng = np.random.default_rng(10)
    good = _to_memory("tetrominoes", _disk_scene("tetrominoes", rng))
    bad_shape = dict(good, image=good["image"][:34])
    path = tmp_path / "tetrominoes_train.tfrecords"
    with pytest.raises(ValueError, match=r"scene 1 .*'image' has shape \(34, 35, 3\)"):
        records.write_records(path, [good, bad_shape], "tetrominoes")
    with pytest.raises(ValueError, match="missing features \\['x'\\]"):
        records.write_records(path, [{k: v for k, v in good.items() if k != "x"}],
                              "tetrominoes")
    with pytest.raises(ValueError, match="dtype float32, expected uint8"):
        records.write_records(path, [dict(good, mask=good["mask"].astype(np.float32))],
                              "tetrominoes")
    assert os.listdir(tmp_path) == []


def test_clevr6_test_split_filters_before_taking_its_scenes(tmp_path):
    rng = np.random.default_rng(9)
    six = [(40 + 25 * i, 60 + 25 * i, 80 + 25 * i, 100 + 25 * i) for i in range(6)]
    seven = six + [(200, 210, 200, 210)]
    three = six[:3]
    # Train: records 0-1. Test region: 7, 6, 7, 3, 7 objects.
    boxes = [six, six, seven, six, seven, three, seven]
    scenes = [_clevr_scene(rng, b) for b in boxes]
    records.write_records(tmp_path / "clevr_with_masks_train.tfrecords", scenes,
                          "clevr_with_masks")
    test = list(records.read_dataset("clevr6", "test", tmp_path, num_examples=2,
                                     train_size=2))
    assert [int(e["num_objects"]) for e in test] == [6, 3]  # records 3 and 5
    later = list(records.read_dataset("clevr6", "test", tmp_path, num_examples=1,
                                      start_index=1, train_size=2))
    assert int(later[0]["num_objects"]) == 3
    # clevr_with_masks keeps the record split: 2 test records are records 2 and 3.
    both = list(records.read_dataset("clevr_with_masks", "test", tmp_path, num_examples=2,
                                     train_size=2))
    assert [int(e["num_objects"]) for e in both] == [7, 6]
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 3"):
        list(records.read_dataset("clevr6", "test", tmp_path, num_examples=3, train_size=2))


def _scene_ids(elements, scenes):
    """Index in `scenes` of each element, found by its image."""
    keys = {s["image"].tobytes(): i for i, s in enumerate(scenes)}
    return [keys[np.round((e["image"].numpy() + 1) * 127.5).astype(np.uint8).tobytes()]
            for e in elements]


def test_train_stream_shuffles_per_epoch_and_resumes_at_any_position(tmp_path):
    scenes = [registry.get("tetrominoes").generate(np.random.default_rng([4, i]))
              for i in range(10)]
    records.write_records(tmp_path / "tetrominoes_train.tfrecords", scenes, "tetrominoes")

    def stream(**kwargs):
        kwargs = {"seed": 1, "window": 4, "train_size": 10, **kwargs}
        return list(records.read_train_stream("tetrominoes", tmp_path, **kwargs).take(30))

    full = stream()
    assert [int(e["position"]) for e in full] == list(range(30))
    ids = _scene_ids(full, scenes)
    epochs = [ids[0:10], ids[10:20], ids[20:30]]
    for epoch in epochs:
        assert sorted(epoch) == list(range(10))  # every record once per epoch
        # Windows of 4 records are shuffled among themselves.
        assert [sorted(epoch[i:i + 4]) for i in (0, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert epochs[0] != list(range(10)) and epochs[0] != epochs[1]  # shuffled, anew
    assert _scene_ids(stream(), scenes) == ids  # the same seed, the same order
    assert _scene_ids(stream(seed=2), scenes) != ids
    assert _scene_ids(stream(shuffle=False), scenes) == list(range(10)) * 3
    for start in (3, 10, 13, 19):
        resumed = stream(start_position=start)[:5]
        assert [int(e["position"]) for e in resumed] == list(range(start, start + 5))
        assert _scene_ids(resumed, scenes) == ids[start:start + 5]


def test_split_sizes_file_and_short_file(tmp_path):
    rng = np.random.default_rng(10)
    records.write_records(tmp_path / "tetrominoes_train.tfrecords",
                          [_to_memory("tetrominoes", _disk_scene("tetrominoes", rng))
                           for _ in range(5)], "tetrominoes")
    assert records.split_sizes("tetrominoes", tmp_path) == (60_000, 320)
    records.write_split_sizes(str(tmp_path / "tetrominoes_train.tfrecords"), 3, 2)
    assert records.split_sizes("tetrominoes", tmp_path) == (3, 2)
    assert len(list(records.read_dataset("tetrominoes", "train", tmp_path))) == 3
    assert len(list(records.read_dataset("tetrominoes", "test", tmp_path))) == 2
    records.write_split_sizes(str(tmp_path / "tetrominoes_train.tfrecords"), 8, 2)
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 8"):
        list(records.read_train_stream("tetrominoes", tmp_path).take(9))
