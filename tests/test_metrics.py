"""Tests for keras_slots.metrics against scikit-learn, scipy and brute-force loops."""

import itertools

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.metrics import adjusted_rand_score

from keras_slots import metrics


# === Helpers (independent reference implementations) ===


def sklearn_ari(true_ids, pred_ids, foreground_only=False, num_background=1):
    """Per-image scikit-learn ARI, optionally on foreground pixels (id >= num_background)."""
    scores = []
    for t, p in zip(true_ids, pred_ids):
        keep = t >= num_background if foreground_only else np.ones_like(t, dtype=bool)
        scores.append(adjusted_rand_score(t[keep], p[keep]))
    return np.array(scores)


def deepmind_ari(true_oh, pred_ids, num_pred):
    """numpy transcription of the formula of DeepMind's segmentation_metrics.py.

    true_oh: [B, P, Kt] one-hot ground truth (channels already dropped for FG-ARI);
    pred_ids: [B, P]. 1.0 where both argmax labellings are constant, else the raw
    formula (NaN for 0 / 0).
    """
    true_oh = true_oh.astype(np.float64)
    pred_oh = np.eye(num_pred)[pred_ids]  # [B, P, Kp]
    true_group_ids = np.argmax(true_oh, -1)  # [B, P]
    n_points = true_oh.sum(axis=(1, 2))  # [B]
    nij = np.einsum("bji,bjk->bki", pred_oh, true_oh)  # [B, Kt, Kp]
    a, b = nij.sum(axis=1), nij.sum(axis=2)
    rindex = (nij * (nij - 1)).sum(axis=(1, 2))
    aindex = (a * (a - 1)).sum(axis=1)
    bindex = (b * (b - 1)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = aindex * bindex / (n_points * (n_points - 1))
        ari = (rindex - expected) / ((aindex + bindex) / 2 - expected)
    single = (np.all(true_group_ids == true_group_ids[:, :1], axis=1)
              & np.all(pred_ids == pred_ids[:, :1], axis=1))
    return np.where(single, 1.0, ari)


def blob_labels(rng, batch, size, num_blobs):
    """Structured label maps: each pixel takes the id of its nearest random centre; id 0 is
    whatever lies farther than a radius from every centre (background)."""
    yy, xx = np.mgrid[0:size, 0:size]  # [H, W]
    maps = []
    for _ in range(batch):
        centres = rng.uniform(0, size, size=(num_blobs, 2))  # [N, 2]
        dist = np.hypot(yy[None] - centres[:, 0, None, None],
                        xx[None] - centres[:, 1, None, None])  # [N, H, W]
        ids = np.argmin(dist, axis=0) + 1  # [H, W]
        ids[dist.min(axis=0) > size / 4] = 0
        maps.append(ids.ravel())
    return np.stack(maps)  # [B, P]


def ids_to_masks(ids, num, height, width=None):
    """[B, P] ids -> [B, K, H, W, 1] uint8 0/255 masks (a partition, as in the datasets)."""
    onehot = ids[:, None, :] == np.arange(num)[None, :, None]  # [B, K, P]
    shape = (ids.shape[0], num, height, width or height, 1)
    return (onehot * 255).astype(np.uint8).reshape(shape)


def brute_force_iou(true_ids, pred_ids, num_true, num_pred):
    """Loops over images, objects and slots; returns per-image lists of IoU rows."""
    rows_per_image = []
    for t, p in zip(true_ids, pred_ids):
        rows = []
        for k in range(1, num_true):
            obj = t == k
            if not obj.any():
                continue
            row = []
            for s in range(num_pred):
                slot = p == s
                row.append(np.logical_and(obj, slot).sum() / np.logical_or(obj, slot).sum())
            rows.append(row)
        rows_per_image.append(np.array(rows).reshape(len(rows), num_pred))
    return rows_per_image


def brute_force_mbo(rows_per_image):
    return np.array([r.max(axis=1).mean() if len(r) else np.nan for r in rows_per_image])


def brute_force_miou(rows_per_image):
    """Best one-to-one assignment by trying every injection of objects into slots
    (objects beyond the number of slots score 0)."""
    scores = []
    for rows in rows_per_image:
        if not len(rows):
            scores.append(np.nan)
            continue
        n_obj, n_slot = rows.shape
        dummies = max(0, n_obj - n_slot)  # zero-IoU slots for objects left over
        padded = np.concatenate([rows, np.zeros((n_obj, dummies))], axis=1)
        best = max(sum(padded[i, c] for i, c in enumerate(cols))
                   for cols in itertools.permutations(range(n_slot + dummies), n_obj))
        scores.append(best / n_obj)
    return np.array(scores)


# === masks_to_ids ===


def test_masks_to_ids_matches_loop_and_accepts_both_layouts():
    rng = np.random.default_rng(0)
    masks = rng.random((3, 5, 4, 6, 1)).astype(np.float32)  # [B, K, H, W, 1]
    ids = metrics.masks_to_ids(masks)
    assert ids.shape == (3, 24)
    for b in range(3):
        for pixel in range(24):
            y, x = divmod(pixel, 6)
            assert ids[b, pixel] == np.argmax(masks[b, :, y, x, 0])
    np.testing.assert_array_equal(metrics.masks_to_ids(masks[..., 0]), ids)


def test_masks_to_ids_recovers_ids_from_uint8_masks():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 4, size=(2, 64))
    np.testing.assert_array_equal(metrics.masks_to_ids(ids_to_masks(ids, 4, 8)), ids)


def test_masks_to_ids_rejects_bad_shape():
    with pytest.raises(ValueError, match="masks"):
        metrics.masks_to_ids(np.zeros((2, 3, 4)))


# === ARI ===


@pytest.mark.parametrize("num_true,num_pred,pixels", [(2, 2, 50), (4, 7, 200), (11, 7, 300),
                                                      (3, 1, 40), (1, 5, 40), (6, 6, 9)])
def test_ari_matches_sklearn_on_random_label_maps(num_true, num_pred, pixels):
    rng = np.random.default_rng(num_true * 100 + num_pred)
    true_ids = rng.integers(0, num_true, size=(20, pixels))
    pred_ids = rng.integers(0, num_pred, size=(20, pixels))
    scores, edge = metrics.ari(true_ids, pred_ids)
    np.testing.assert_allclose(scores, sklearn_ari(true_ids, pred_ids), rtol=0, atol=1e-12)
    assert scores.shape == edge.shape == (20,)


def test_ari_matches_sklearn_on_partial_overlap_and_permutations():
    rng = np.random.default_rng(2)
    true_ids = rng.integers(0, 5, size=(30, 256))
    perm = rng.permutation(8)
    pred_ids = perm[true_ids]  # same partition, other ids
    noise = rng.random(true_ids.shape) < np.linspace(0, 0.9, 30)[:, None]  # growing noise
    pred_ids = np.where(noise, rng.integers(0, 8, size=true_ids.shape), pred_ids)
    scores, edge = metrics.ari(true_ids, pred_ids)
    expected = sklearn_ari(true_ids, pred_ids)
    np.testing.assert_allclose(scores, expected, atol=1e-12)
    assert scores[0] == 1.0 and not edge.any()
    assert expected.max() - expected.min() > 0.5  # the cases really span a range


def test_ari_and_fg_ari_match_sklearn_on_blobs():
    rng = np.random.default_rng(3)
    true_ids = blob_labels(rng, 12, 32, 4)  # [B, P]
    pred_ids = np.roll(true_ids.reshape(12, 32, 32), 2, axis=2).reshape(12, -1)  # shifted
    pred_ids[:6] = blob_labels(rng, 6, 32, 6)  # unrelated segmentations for half
    scores, _ = metrics.ari(true_ids, pred_ids)
    np.testing.assert_allclose(scores, sklearn_ari(true_ids, pred_ids), atol=1e-12)
    fg, edge = metrics.fg_ari(true_ids, pred_ids)
    np.testing.assert_allclose(fg, sklearn_ari(true_ids, pred_ids, True), atol=1e-12)
    assert not edge.any()
    assert fg[6:].mean() > fg[:6].mean() + 0.2  # a shift hurts less than a wrong split


def test_fg_ari_matches_sklearn_on_foreground_pixels_of_random_maps():
    rng = np.random.default_rng(4)
    true_ids = rng.integers(0, 6, size=(25, 120))
    pred_ids = rng.integers(0, 7, size=(25, 120))
    pred_ids[::3] = true_ids[::3] + 1  # a perfect foreground split for some
    scores, edge = metrics.ari(true_ids, pred_ids, ignore_background=True)
    np.testing.assert_allclose(scores, sklearn_ari(true_ids, pred_ids, True), atol=1e-12)
    np.testing.assert_array_equal(scores[::3], 1.0)
    assert not edge.any()


def test_fg_ari_ignores_background_errors_but_ari_does_not():
    true_ids = np.array([[0, 0, 0, 0, 1, 1, 2, 2]])
    pred_ids = np.array([[1, 2, 1, 2, 3, 3, 4, 4]])  # background scattered, objects exact
    fg, _ = metrics.fg_ari(true_ids, pred_ids)
    full, _ = metrics.ari(true_ids, pred_ids)
    assert fg[0] == 1.0
    assert full[0] == pytest.approx(adjusted_rand_score(true_ids[0], pred_ids[0]))
    assert full[0] < 0.8


def test_ari_edge_single_cluster_both_sides():
    true_ids = np.array([[3, 3, 3, 3], [0, 1, 0, 1]])
    pred_ids = np.array([[5, 5, 5, 5], [2, 2, 2, 2]])
    scores, edge = metrics.ari(true_ids, pred_ids)
    np.testing.assert_array_equal(scores, [1.0, 0.0])
    np.testing.assert_array_equal(edge, [True, False])
    assert adjusted_rand_score(true_ids[0], pred_ids[0]) == 1.0


def test_fg_ari_edge_empty_foreground_and_single_object():
    true_ids = np.array([[0, 0, 0, 0], [0, 2, 2, 0], [1, 1, 2, 2]])
    pred_ids = np.array([[0, 1, 2, 3], [0, 4, 4, 1], [0, 0, 0, 1]])
    scores, edge = metrics.fg_ari(true_ids, pred_ids)
    np.testing.assert_array_equal(edge, [True, True, False])
    assert scores[0] == 1.0 and scores[1] == 1.0
    assert scores[2] == pytest.approx(adjusted_rand_score([1, 1, 2, 2], [0, 0, 0, 1]))


def test_ari_perfect_segmentation_with_permuted_ids_is_one_not_edge():
    rng = np.random.default_rng(5)
    true_ids = blob_labels(rng, 4, 16, 5)
    pred_ids = rng.permutation(7)[true_ids]
    for ignore in (False, True):
        scores, edge = metrics.ari(true_ids, pred_ids, ignore_background=ignore)
        np.testing.assert_array_equal(scores, 1.0)
        assert not edge.any()


def test_ari_from_masks_and_explicit_label_counts():
    rng = np.random.default_rng(6)
    true_ids = blob_labels(rng, 3, 16, 3)
    slot_masks = rng.random((3, 7, 16, 16, 1))  # soft slot masks
    pred_ids = metrics.masks_to_ids(slot_masks)
    true_from_masks = metrics.masks_to_ids(ids_to_masks(true_ids, 4, 16))
    a, _ = metrics.fg_ari(true_from_masks, pred_ids)
    b, _ = metrics.fg_ari(true_ids, pred_ids, num_true=11, num_pred=7)
    np.testing.assert_allclose(a, sklearn_ari(true_ids, pred_ids, True), atol=1e-12)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_ari_rejects_bad_inputs():
    ids = np.zeros((2, 10), dtype=np.int64)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.ari(ids, np.zeros((2, 9), dtype=np.int64))
    with pytest.raises(ValueError, match="integers"):
        metrics.ari(ids.astype(np.float32), ids)
    with pytest.raises(ValueError, match="non-negative"):
        metrics.ari(ids - 1, ids)
    with pytest.raises(ValueError, match="num_pred"):
        metrics.ari(ids, ids + 3, num_pred=2)


def test_deepmind_convention_matches_the_deepmind_formula():
    rng = np.random.default_rng(11)
    true_ids = rng.integers(0, 5, size=(12, 30))
    pred_ids = rng.integers(0, 4, size=(12, 30))
    true_ids[0], pred_ids[0] = 2, 3  # constant everywhere: 1.0 in both conventions
    true_ids[1], pred_ids[1] = np.where(np.arange(30) < 10, 0, 1), 3  # one object, one slot
    pred_ids[2] = np.where(true_ids[2] == 0, 0, 1)  # foreground all in slot 1
    true_ids[2] = np.where(true_ids[2] == 0, 0, 1)  # ... and a single object: FG 0/0
    true_ids[3], pred_ids[3] = 0, rng.integers(0, 4, size=30)  # empty foreground, mixed pred
    true_ids[4], pred_ids[4] = 0, 2  # empty foreground, constant pred
    true_oh = np.eye(5)[true_ids]  # [B, P, 5]
    for keep_from, ignore in ((0, False), (1, True)):
        want = deepmind_ari(true_oh[..., keep_from:], pred_ids, 4)
        got, edge = metrics.ari(true_ids, pred_ids, ignore_background=ignore, num_pred=4,
                                convention="deepmind")
        np.testing.assert_allclose(got, want, atol=1e-12, equal_nan=True)
        sk, _ = metrics.ari(true_ids, pred_ids, ignore_background=ignore, num_pred=4)
        np.testing.assert_allclose(sk, sklearn_ari(true_ids, pred_ids, ignore), atol=1e-12)
        np.testing.assert_allclose(got[~edge], sk[~edge], atol=1e-12)  # differ in 0/0 only
    fg, edge = metrics.fg_ari(true_ids, pred_ids, convention="deepmind")
    np.testing.assert_array_equal(edge[:5], True)
    # Constant over all pixels (a dropped background pixel reads as entity 1): 1.0.
    assert fg[0] == 1.0 and fg[1] == 1.0 and fg[4] == 1.0
    assert np.isnan(fg[2]) and np.isnan(fg[3])  # the other 0/0 cases
    with pytest.raises(ValueError, match="convention"):
        metrics.ari(true_ids, pred_ids, convention="nan")


def test_several_background_masks_are_all_ignored():
    """Objects Room: ids 0-3 are sky, floor and walls; only ids >= 4 are objects."""
    rng = np.random.default_rng(12)
    true_ids = blob_labels(rng, 8, 12, 8)  # ids 0..8
    pred_ids = np.where(rng.random(true_ids.shape) < 0.3, rng.integers(0, 7, true_ids.shape),
                        true_ids % 7)
    fg4, _ = metrics.fg_ari(true_ids, pred_ids, num_background=4)
    np.testing.assert_allclose(fg4, sklearn_ari(true_ids, pred_ids, True, 4), atol=1e-12)
    fg1, _ = metrics.fg_ari(true_ids, pred_ids)
    np.testing.assert_allclose(fg1, sklearn_ari(true_ids, pred_ids, True, 1), atol=1e-12)
    assert not np.allclose(fg1, fg4)
    rows = brute_force_iou(true_ids, pred_ids, 9, 7)  # objects 1..8
    kept = [r[3:] for r in brute_force_iou(true_ids, pred_ids, 9, 7)]  # objects 4..8
    masks = ids_to_masks(true_ids, 9, 12)
    np.testing.assert_allclose(metrics.mean_best_overlap(masks, pred_ids, 4),
                               brute_force_mbo(kept), atol=1e-12)
    np.testing.assert_allclose(metrics.mean_best_overlap(masks, pred_ids),
                               brute_force_mbo(rows), atol=1e-12)
    np.testing.assert_allclose(metrics.miou_matched(masks, pred_ids, 4),
                               [brute_force_miou([r])[0] for r in kept], atol=1e-12)


# === mBO and matched mIoU ===


@pytest.mark.parametrize("num_true,num_slots,seed", [(4, 4, 0), (7, 7, 1), (6, 3, 2)])
def test_mbo_and_miou_match_brute_force(num_true, num_slots, seed):
    rng = np.random.default_rng(seed)
    size = 12
    true_ids = blob_labels(rng, 10, size, num_true - 1)  # [B, P]
    true_ids[0] = 0  # an image without objects
    true_ids[1, true_ids[1] == 2] = 1  # an image with a missing object id
    pred_ids = np.where(rng.random(true_ids.shape) < 0.3,
                        rng.integers(0, num_slots, size=true_ids.shape),
                        true_ids % num_slots)  # noisy, sometimes merged
    true_masks = ids_to_masks(true_ids, num_true, size)
    rows = brute_force_iou(true_ids, pred_ids, num_true, num_slots)
    mbo = metrics.mean_best_overlap(true_masks, pred_ids)
    miou = metrics.miou_matched(true_masks, pred_ids)
    np.testing.assert_allclose(mbo, brute_force_mbo(rows), atol=1e-12)
    np.testing.assert_allclose(miou, brute_force_miou(rows), atol=1e-12)
    assert np.isnan(mbo[0]) and np.isnan(miou[0])
    assert np.all(miou[1:] <= mbo[1:] + 1e-12)  # matching can only lose overlap


def test_miou_matches_scipy_assignment_on_brute_force_iou():
    rng = np.random.default_rng(7)
    true_ids = blob_labels(rng, 6, 16, 5)
    slot_masks = rng.random((6, 7, 16, 16))
    slot_masks += 3.0 * (true_ids.reshape(6, 1, 16, 16) == np.arange(7)[None, :, None, None])
    rows = brute_force_iou(true_ids, metrics.masks_to_ids(slot_masks), 6, 7)
    expected = []
    for r in rows:
        i, j = optimize.linear_sum_assignment(-r)
        expected.append(r[i, j].sum() / len(r))
    got = metrics.miou_matched(ids_to_masks(true_ids, 6, 16), slot_masks)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_mbo_miou_perfect_and_merged_cases():
    true_ids = np.array([[0, 0, 1, 1, 2, 2, 3, 3]])
    true_masks = ids_to_masks(true_ids, 4, 1, 8)[..., 0]  # [B, K, H, W]
    np.testing.assert_allclose(metrics.mean_best_overlap(true_masks, true_ids + 2), [1.0])
    np.testing.assert_allclose(metrics.miou_matched(true_masks, true_ids + 2), [1.0])
    merged = np.array([[0, 0, 1, 1, 1, 1, 2, 2]])  # objects 1 and 2 share a slot
    assert metrics.mean_best_overlap(true_masks, merged)[0] == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert metrics.miou_matched(true_masks, merged)[0] == pytest.approx((0.5 + 0 + 1) / 3)


# === summarize ===


def test_summarize_matches_numpy_and_scipy():
    rng = np.random.default_rng(8)
    values = rng.normal(0.9, 0.05, size=40)
    with_nans = np.concatenate([values, [np.nan, np.nan]])
    summary = metrics.summarize(with_nans)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                                 scale=stats.sem(values))
    assert summary["mean"] == pytest.approx(values.mean())
    assert summary["std"] == pytest.approx(np.std(values, ddof=1))
    assert summary["ci95_low"] == pytest.approx(low)
    assert summary["ci95_high"] == pytest.approx(high)
    assert summary["n"] == 40 and summary["n_nan"] == 2


def test_summarize_small_samples():
    one = metrics.summarize([0.5, np.nan])
    assert one["mean"] == 0.5 and one["n"] == 1 and np.isnan(one["std"])
    assert np.isnan(one["ci95_low"]) and np.isnan(one["ci95_high"])
    none = metrics.summarize([np.nan])
    assert np.isnan(none["mean"]) and none["n"] == 0 and none["n_nan"] == 1
    two = metrics.summarize([1.0, 3.0])
    assert two["ci95_high"] - two["mean"] == pytest.approx(stats.t.ppf(0.975, 1) * 1.0)
