"""Tests for get_dataset and to_model_ready."""

import dataclasses
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_slots.data import DATASET_NAMES
from keras_slots.data import get_dataset
from keras_slots.data import get_train_stream
from keras_slots.data import records
from keras_slots.data import registry
from keras_slots.data import tetrominoes
from keras_slots.data import to_model_ready


def _elements(dataset):
    return [{k: v.numpy() for k, v in element.items()} for element in dataset]


def _assert_same(a, b):
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_element_spec_dtypes_and_shapes():
    spec = get_dataset("tetrominoes", num_examples=1).element_spec
    expected = {"image": (tf.float32, [35, 35, 3]), "mask": (tf.uint8, [4, 35, 35, 1]),
                "num_objects": (tf.int32, []), "x": (tf.float32, [4]),
                "y": (tf.float32, [4]), "shape": (tf.float32, [4]),
                "color": (tf.float32, [4, 3]), "visibility": (tf.float32, [4])}
    assert set(spec) == set(expected)
    for key, (dtype, shape) in expected.items():
        assert spec[key].dtype == dtype, key
        assert spec[key].shape.as_list() == shape, key


def test_elements_are_the_generated_scenes_scaled_to_minus_one_one():
    elements = _elements(get_dataset("tetrominoes", "test", seed=5, num_examples=3))
    for i, element in enumerate(elements):
        raw = tetrominoes.generate_scene(np.random.default_rng([5, 1, i]))
        np.testing.assert_allclose(element["image"], raw["image"] / 127.5 - 1.0, atol=1e-6)
        assert element["image"].min() == -1.0 and element["image"].max() <= 1.0
        for key in ("mask", "x", "y", "shape", "color", "visibility"):
            np.testing.assert_array_equal(element[key], raw[key], err_msg=key)
        assert element["num_objects"] == 3


def test_same_arguments_give_the_same_stream():
    a = _elements(get_dataset("tetrominoes", seed=1, num_examples=40))
    b = _elements(get_dataset("tetrominoes", seed=1, num_examples=40))
    for x, y in zip(a, b):
        _assert_same(x, y)
    c = _elements(get_dataset("tetrominoes", seed=2, num_examples=1))
    assert not np.array_equal(a[0]["image"], c[0]["image"])


def test_start_index_continues_the_stream():
    full = _elements(get_dataset("tetrominoes", num_examples=40))
    resumed = _elements(get_dataset("tetrominoes", num_examples=3, start_index=37))
    assert len(resumed) == 3
    for k in range(3):
        _assert_same(resumed[k], full[37 + k])
    # The infinite stream resumes the same way.
    infinite = _elements(get_dataset("tetrominoes", start_index=37).take(2))
    _assert_same(infinite[1], full[38])


def test_train_and_test_differ():
    train = _elements(get_dataset("tetrominoes", "train", num_examples=20))
    test = _elements(get_dataset("tetrominoes", "test", num_examples=20))
    train_images = {e["image"].tobytes() for e in train}
    assert not any(e["image"].tobytes() in train_images for e in test)


def test_num_examples_and_defaults():
    assert len(_elements(get_dataset("tetrominoes", num_examples=5))) == 5
    assert len(_elements(get_dataset("tetrominoes", num_examples=0))) == 0
    test_count = get_dataset("tetrominoes", "test").reduce(0, lambda n, _: n + 1)
    assert int(test_count) == 320
    # Train is infinite unless num_examples is given: more than a test set's worth.
    assert len(_elements(get_dataset("tetrominoes").take(400))) == 400


def test_to_model_ready_counts_non_empty_foreground_masks():
    mask = np.zeros((5, 2, 3, 1), np.uint8)  # [K, H, W, 1]
    mask[0, 0] = 255  # background
    mask[2, 1, 0] = 255
    mask[4, 1, 1:] = 255
    raw = {"image": np.array([[[0, 255, 51]] * 3] * 2, np.uint8), "mask": mask,
           "shape": np.arange(5, dtype=np.float32)}
    element = to_model_ready(raw)
    assert element["num_objects"].dtype == tf.int32 and int(element["num_objects"]) == 2
    np.testing.assert_allclose(element["image"].numpy()[0, 0], [-1.0, 1.0, -0.6], atol=1e-6)
    np.testing.assert_array_equal(element["shape"], raw["shape"])
    np.testing.assert_array_equal(element["mask"], mask)
    # Batched input: one count per scene.
    batched = to_model_ready({"image": np.stack([raw["image"]] * 2),
                              "mask": np.stack([mask, np.zeros_like(mask)])})
    np.testing.assert_array_equal(batched["num_objects"], [2, 0])


def test_unknown_dataset_raises_one_line_error_listing_choices():
    for read in (lambda: get_dataset("tetris"), lambda: get_dataset("tetris", data_dir="/d"),
                 lambda: get_train_stream("tetris", data_dir="/d")):
        with pytest.raises(registry.DataError) as info:
            read()
        message = str(info.value)
        assert "\n" not in message and "'tetris'" in message
        assert all(name in message for name in DATASET_NAMES)


def _replace_entry(monkeypatch, name, **changes):
    entry = dataclasses.replace(registry.DATASETS[name], **changes)
    monkeypatch.setitem(registry.DATASETS, name, entry)


def test_known_dataset_without_generator_asks_for_data_dir(monkeypatch):
    _replace_entry(monkeypatch, "clevr6", generate=None)
    with pytest.raises(ValueError, match="no built-in generator for 'clevr6'.*data_dir"):
        get_dataset("clevr6")


def test_every_published_dataset_has_a_builtin_generator():
    assert all(registry.DATASETS[name].generate is not None for name in DATASET_NAMES)


def test_builtin_clevr6_is_cropped_to_128_with_at_most_six_objects():
    elements = list(get_dataset("clevr6", "test", num_examples=3).as_numpy_iterator())
    for element in elements:
        assert element["image"].shape == (128, 128, 3)
        assert element["mask"].shape == (11, 128, 128, 1)
        assert element["num_objects"] <= 6
        assert set(np.unique(element["mask"])) <= {0, 255}


def test_bad_split_and_bad_counts_raise():
    with pytest.raises(registry.DataError, match="unknown split 'valid'"):
        get_dataset("tetrominoes", "valid")
    with pytest.raises(registry.DataError, match="must be >= 0"):
        get_dataset("tetrominoes", start_index=-1)
    with pytest.raises(registry.DataError, match="is a test set: only split 'test'"):
        get_dataset("objects_room_empty_room", "train")


def test_generator_with_wrong_shapes_is_rejected(monkeypatch):
    _replace_entry(monkeypatch, "objects_room", generate=tetrominoes.generate_scene)
    with pytest.raises(ValueError, match=r"returns image uint8 \(35, 35, 3\), expected"):
        get_dataset("objects_room")


def test_data_dir_delegates_to_records_reader(monkeypatch):
    calls = []

    def read_dataset(name, split, data_dir, *, num_examples, start_index):
        calls.append((name, split, data_dir, num_examples, start_index))
        return "dataset"

    monkeypatch.setattr(records, "read_dataset", read_dataset)
    result = get_dataset("clevr6", "test", data_dir="/data", num_examples=7, start_index=3)
    assert result == "dataset"
    assert calls == [("clevr6", "test", "/data", 7, 3)]


@pytest.mark.slow
def test_throughput_over_1000_images_per_second():
    iterator = iter(get_dataset("tetrominoes").batch(64))
    next(iterator)
    start = time.perf_counter()
    for _ in range(40):
        next(iterator)
    assert 40 * 64 / (time.perf_counter() - start) > 1000
