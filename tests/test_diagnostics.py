"""keras_slots.diagnostics against plain numpy and against hand-made extreme cases."""

import itertools

import numpy as np
import pytest

from keras_slots import diagnostics


def random_masks(rng, batch=3, slots=4, height=5, width=6):
    logits = rng.normal(size=(batch, slots, height, width, 1))
    exp = np.exp(logits)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)  # [B, K, H, W, 1]


def test_slot_usage_matches_numpy():
    masks = random_masks(np.random.default_rng(0))
    winners = masks[..., 0].argmax(axis=1)  # [B, H, W]
    expected = np.stack([[np.mean(w == k) for k in range(masks.shape[1])] for w in winners])
    got = diagnostics.slot_usage(masks).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)


def test_mask_entropy_matches_numpy_and_its_bounds():
    masks = random_masks(np.random.default_rng(1))
    m = masks[..., 0]
    expected = np.mean(-np.sum(m * np.log(m), axis=1), axis=(1, 2))
    np.testing.assert_allclose(diagnostics.mask_entropy(masks).numpy(), expected, rtol=1e-5)
    uniform = np.full((1, 4, 3, 3, 1), 0.25, np.float32)
    one_hot = np.zeros((1, 4, 3, 3, 1), np.float32)
    one_hot[:, 2] = 1.0
    assert diagnostics.mask_entropy(uniform).numpy()[0] == pytest.approx(np.log(4), rel=1e-5)
    assert diagnostics.mask_entropy(one_hot).numpy()[0] == pytest.approx(0.0, abs=1e-6)


def test_slot_similarity_matches_numpy_pairs():
    slots = np.random.default_rng(2).normal(size=(2, 5, 7)).astype(np.float32)
    expected = []
    for image in slots:
        pairs = [np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)
                 for a, b in itertools.permutations(image, 2)]
        expected.append(np.mean(pairs))
    np.testing.assert_allclose(diagnostics.slot_similarity(slots).numpy(), expected,
                               rtol=1e-5)


def test_identical_slots_have_similarity_one_and_orthogonal_zero():
    same = np.tile(np.arange(1.0, 4.0, dtype=np.float32), (1, 3, 1))  # [1, 3, 3]
    orthogonal = np.eye(3, dtype=np.float32)[None]  # [1, 3, 3]
    assert diagnostics.slot_similarity(same).numpy()[0] == pytest.approx(1.0, abs=1e-6)
    assert diagnostics.slot_similarity(orthogonal).numpy()[0] == pytest.approx(0.0, abs=1e-6)


def test_summary_uses_the_tensorboard_tags():
    rng = np.random.default_rng(3)
    masks = random_masks(rng)
    outputs = {"masks": masks, "slots": rng.normal(size=(3, 4, 8)).astype(np.float32)}
    values = diagnostics.summary(outputs)
    assert set(values) == {"diag/slot_usage_max", "diag/mask_entropy", "diag/slot_similarity"}
    usage = diagnostics.slot_usage(masks).numpy()
    assert float(values["diag/slot_usage_max"]) == pytest.approx(usage.max(axis=1).mean())
