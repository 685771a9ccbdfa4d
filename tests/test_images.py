"""Tests for keras_slots.images: pixels <-> model range."""

import numpy as np
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
