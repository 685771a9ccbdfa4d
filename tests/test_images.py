"""Tests for keras_slots.images: pixels <-> model range, image files -> model inputs."""

import numpy as np
import pytest
import tensorflow as tf

from keras_slots import images


def test_to_model_range_maps_0_255_linearly_onto_minus_one_one():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    got = images.to_model_range(pixels)
    assert got.dtype == tf.float32
    want = pixels.astype(np.float64) * (2.0 / 255.0) - 1.0  # Independent formula.
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6)
    assert got.numpy().min() == -1.0 and got.numpy().max() == 1.0
    np.testing.assert_array_equal(got.numpy(), pixels.astype(np.float32) / 127.5 - 1.0)
    traced = tf.function(images.to_model_range)(tf.constant(pixels))  # Graphs may differ
    np.testing.assert_allclose(traced.numpy(), want, atol=1e-6)  # by an ulp (grappler).


def test_to_uint8_inverts_to_model_range_and_clips():
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(images.to_uint8(images.to_model_range(pixels)), pixels)
    out = images.to_uint8(np.array([-3.0, 3.0, np.nan, 0.0, -0.999], np.float32))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [0, 255, 128, 128, 0])


def test_prepare_image_applies_the_training_crop_of_clevr6():
    from keras_slots.data import clevr6, registry

    recorded = registry.get("clevr6").preprocessing()
    assert recorded["crop"] == [[29, 221], [64, 256]] and recorded["source_size"] == [240, 320]
    assert registry.get("tetrominoes").preprocessing()["crop"] is None
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((240, 320, 1), 255, np.uint8)], axis=-1)
    got, notes = images.prepare_image(rgba, (128, 128), recorded)
    trained = clevr6.crop_and_resize({"image": rgb, "mask": np.zeros((1, 240, 320, 1),
                                                                     np.uint8)})["image"]
    np.testing.assert_array_equal(got, np.clip(np.round(trained.numpy()), 0, 255))
    assert notes == ["RGBA: alpha channel dropped",
                     "cropped rows 29:221, columns 64:256 as in training",
                     "resized 192x192 to 128x128"]
    # Without recorded preprocessing (an older export) the frame is only resized.
    squashed, notes = images.prepare_image(rgb, (128, 128))
    assert notes == ["resized 320x240 to 128x128"]
    assert not np.array_equal(squashed, got)
    with pytest.raises(ValueError, match="1 to 4 channels"):
        images.prepare_image(np.zeros((4, 4, 5), np.uint8), (4, 4))
