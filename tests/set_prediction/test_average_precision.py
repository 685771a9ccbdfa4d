"""Set-prediction AP (keras_slots.metrics.average_precision) on hand-made cases and against
an independent loop written from the metric's definition."""

import numpy as np
import pytest

from keras_slots import metrics

SIZES, MATERIALS, SHAPES, COLORS = 2, 2, 3, 8


def make_object(xyz=(0.0, 0.0, 0.0), size=0, material=0, shape=0, color=0, real=1.0):
    """One 19-number row written out by hand from original-unit coordinates and indices:
    [0:3] (xyz + 3) / 6, [3:5] size, [5:7] material, [7:10] shape, [10:18] colour, [18]."""
    row = np.zeros(19)
    row[0:3] = (np.asarray(xyz, float) + 3.0) / 6.0
    row[3 + size] = 1.0
    row[5 + material] = 1.0
    row[7 + shape] = 1.0
    row[10 + color] = 1.0
    row[18] = real
    return row


def make_scene(rng, num_objects, num_rows=10):
    rows = [make_object(rng.uniform(-3, 3, 3), rng.integers(SIZES), rng.integers(MATERIALS),
                        rng.integers(SHAPES), rng.integers(COLORS))
            for _ in range(num_objects)]
    rows += [np.zeros(19)] * (num_rows - num_objects)
    return np.stack(rows)  # [num_rows, 19]


def reference_ap(pred, target, threshold):
    """The definition as a plain loop: rank every prediction as the paper's code does
    (numpy's default argsort of the flattened last column, in the dtype given, reversed),
    find the nearest same-property real target among all of them, hit iff close enough
    and not yet detected; then the area under the right-to-left maximum of precision."""
    def properties(row):
        return (int(np.argmax(row[3:5])), int(np.argmax(row[5:7])),
                int(np.argmax(row[7:10])), int(np.argmax(row[10:18])))

    batch, slots = pred.shape[:2]
    flat_scores = np.reshape(pred, [batch * slots, pred.shape[2]])[:, -1]
    detected, hits = set(), []
    for flat_index in np.argsort(flat_scores, axis=0)[::-1]:
        b, s = divmod(int(flat_index), slots)
        best, best_distance = None, np.inf
        for t in range(target.shape[1]):
            if target[b, t, 18] == 0 or properties(pred[b, s]) != properties(target[b, t]):
                continue
            distance = 6.0 * np.sqrt(np.sum((pred[b, s, :3] - target[b, t, :3]) ** 2))
            if distance < best_distance:
                best, best_distance = t, distance
        hit = best is not None and best_distance < threshold and (b, best) not in detected
        if hit:
            detected.add((b, best))
        hits.append(hit)
    tp = np.cumsum(hits)
    precision = list(tp / np.arange(1, len(hits) + 1))
    recall = list(tp / np.sum(target[:, :, 18]))
    precision, recall = [0.0] + precision + [0.0], [0.0] + recall + [1.0]
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    return sum(precision[i + 1] * (recall[i + 1] - recall[i]) for i in range(len(recall) - 1))


def tp(pred, target, threshold=np.inf):
    return metrics.set_true_positives(np.asarray(pred)[None], np.asarray(target)[None],
                                      threshold)[0].tolist()


def ap(pred, target, threshold=np.inf):
    return metrics.average_precision(np.asarray(pred)[None], np.asarray(target)[None],
                                     threshold)


@pytest.mark.parametrize("threshold", metrics.DISTANCE_THRESHOLDS)
def test_perfect_shuffled_predictions_score_one(threshold):
    rng = np.random.default_rng(9)
    target = np.stack([make_scene(rng, n) for n in (3, 10, 6, 1)])  # [4, 10, 19]
    pred = np.stack([scene[rng.permutation(10)] for scene in target])  # shuffled slots
    pred[:, :, 18] = np.where(pred[:, :, 18] > 0, 0.9, 0.1)
    assert metrics.average_precision(pred, target, threshold) == pytest.approx(1.0)
    assert metrics.average_precision(target, target, threshold) == pytest.approx(1.0)


@pytest.mark.parametrize("prop", ["size", "material", "shape", "color"])
def test_one_wrong_property_is_a_false_positive(prop):
    wrong = {"size": 1, "material": 1, "shape": 2, "color": 5}
    target = np.stack([make_object((1, 1, 0.35)), make_object((-2, 0, 0.7), color=3)])
    pred = np.stack([make_object((1, 1, 0.35), real=0.9, **{prop: wrong[prop]}),
                     make_object((-2, 0, 0.7), color=3, real=0.8)])
    assert tp(pred, target) == [False, True]
    # ranked F, T: precision 0, 1/2 at recall 0, 1/2 -> AP 1/4.
    assert ap(pred, target) == pytest.approx(0.25)
    pred[:, 18] = [0.8, 0.9]  # ranked T, F -> precision 1 at recall 1/2 -> AP 1/2
    assert ap(pred, target) == pytest.approx(0.5)


def test_threshold_is_strict_and_in_original_units():
    target = np.stack([make_object((0.0, 0.0, 0.0))])
    diagonal = np.stack([make_object((0.3, 0.4, 0.0))])  # 0.5 away in original units
    assert tp(diagonal, target, 0.5 + 1e-6) == [True]
    assert tp(diagonal, target, 0.5 - 1e-6) == [False]
    just_inside = np.stack([make_object((0.49, 0.0, 0.0))])
    just_outside = np.stack([make_object((0.0, 0.0, 0.51))])
    assert [ap(just_inside, target, d) for d in metrics.DISTANCE_THRESHOLDS] == \
        pytest.approx([1.0, 1.0, 1.0, 0.0, 0.0])
    assert [ap(just_outside, target, d) for d in metrics.DISTANCE_THRESHOLDS] == \
        pytest.approx([1.0, 1.0, 0.0, 0.0, 0.0])
    near = np.stack([make_object((0.1, 0.0, 0.0))])  # 0.1 away (1/60 in [0, 1] units)
    assert tp(near, target, 0.125) == [True]
    assert tp(near, target, 0.1 - 1e-6) == [False]


def test_duplicate_predictions_of_one_object():
    target = np.stack([make_object((0, 0, 0)), make_object((2, 0, 0), color=1)])
    pred = np.stack([make_object((0, 0, 0), real=0.9), make_object((0.05, 0, 0), real=0.8),
                     make_object((2, 0, 0), color=1, real=0.7)])
    assert tp(pred, target) == [True, False, True]
    # ranked T, F, T: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> 1/2 + 1/2 * 2/3.
    assert ap(pred, target) == pytest.approx(1 / 2 + 1 / 3)


def test_duplicate_does_not_fall_back_to_the_next_free_target():
    # A at x=0 and B at x=1 share all properties. Both predictions are nearest to B: the
    # first detects it, the second is a false positive although A is free and within 1.5.
    target = np.stack([make_object((0, 0, 0)), make_object((1, 0, 0))])
    pred = np.stack([make_object((0.6, 0, 0), real=0.9), make_object((1, 0, 0), real=0.8)])
    for threshold in (np.inf, 1.5, 0.5):
        assert tp(pred, target, threshold) == [True, False]
    assert ap(pred, target) == pytest.approx(0.5)


def test_too_far_from_the_nearest_is_false_even_if_another_is_in_range():
    # Only the nearest same-property target counts; with the threshold between the two
    # distances, a prediction whose nearest target is too far is a miss.
    target = np.stack([make_object((0, 0, 0)), make_object((0, 2, 0), shape=1)])
    pred = np.stack([make_object((0, 0.4, 0), shape=1, real=0.9)])  # 1.6 from its match
    assert tp(pred, target, 2.0) == [True]
    assert tp(pred, target, 1.0) == [False]


def test_more_predictions_than_targets_and_padding():
    target = np.zeros((10, 19))
    target[0] = make_object((1, -1, 0.35), size=1, color=7)
    pred = np.stack([make_object((1, -1, 0.35), size=1, color=7, real=0.95)]
                    + [make_object((0, 0, 0), real=0.01 * i) for i in range(1, 10)])
    # The padding rows are all-zero, and so decode to size 0, material 0, shape 0, colour
    # 0 at (-3, -3, -3): predictions with those properties must not match them.
    pred[1] = make_object((-3, -3, -3), real=0.5)
    assert tp(pred, target) == [True] + [False] * 9
    assert ap(pred, target) == pytest.approx(1.0)  # recall 1 reached at precision 1
    pred[0, 18] = 0.001  # now ranked last: precision 1/10 at recall 1
    assert ap(pred, target) == pytest.approx(0.1)


def test_ranking_is_global_across_images_and_few_ties_go_to_the_later_prediction():
    """With 16 scores or fewer numpy's default sort keeps tied scores in index order, so
    the reversed ranking visits the later one first."""
    target = np.zeros((2, 2, 19))
    target[0, 0] = make_object(color=0)
    target[1, 0] = make_object(shape=1)
    pred = np.zeros((2, 2, 19))
    pred[0, 0] = make_object(color=0, real=0.5)
    pred[0, 1] = make_object(color=0, real=0.5)  # tie with [0, 0]: visited first
    pred[1, 0] = make_object(shape=1, real=0.7)
    pred[1, 1] = make_object(color=2, real=0.6)
    np.testing.assert_array_equal(metrics.set_true_positives(pred, target, np.inf),
                                  [[False, True], [True, False]])
    # ranked T, F, T, F: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> 1/2 + 1/3.
    assert metrics.average_precision(pred, target) == pytest.approx(1 / 2 + 1 / 3)


def tied_case(rng, num_images=12):
    """Noisy float32 predictions whose confidences tie often: many exactly 1.0 (saturated
    sigmoids), the rest drawn from a few levels."""
    target = np.stack([make_scene(rng, rng.integers(1, 11)) for _ in range(num_images)])
    pred = target[:, rng.permutation(10)].copy()
    pred[:, :, :3] += rng.normal(0, 0.05, size=pred[:, :, :3].shape)
    swap = rng.random(pred.shape[:2]) < 0.25
    pred[swap, 10:18] = np.roll(pred[swap, 10:18], 1, axis=-1)
    levels = rng.choice([1.0, 1.0, 1.0, 0.5, 0.25], size=pred.shape[:2])
    pred[:, :, 18] = levels
    return pred.astype(np.float32), target


def test_many_tied_scores_rank_as_the_papers_code():
    """The paper's code ranks with numpy's default argsort (not stable). On 40 tied cases x
    5 thresholds AP equals the loop that ranks that way; the ties must matter, so the
    stable order (what `ranking` used before) differs from it on most cases."""
    rng = np.random.default_rng(30)
    differs = 0
    for case in range(40):
        pred, target = tied_case(rng)
        flat = pred[:, :, 18].ravel()
        stable = np.argsort(flat, kind="stable")[::-1]
        differs += not np.array_equal(metrics.ranking(flat), stable)
        np.testing.assert_array_equal(metrics.ranking(flat), np.argsort(flat)[::-1])
        for threshold in metrics.DISTANCE_THRESHOLDS:
            expected = reference_ap(pred, target, threshold)
            assert metrics.average_precision(pred, target, threshold) == pytest.approx(
                expected, abs=1e-6), (case, threshold)
    assert differs > 20


def test_all_confidences_one_rank_as_the_papers_code():
    rng = np.random.default_rng(7)
    pred, target = tied_case(rng, num_images=20)
    pred[:, :, 18] = 1.0
    for threshold in metrics.DISTANCE_THRESHOLDS:
        assert metrics.average_precision(pred, target, threshold) == pytest.approx(
            reference_ap(pred, target, threshold), abs=1e-6)


def test_interpolation_example():
    # precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1 -> 1/3 + 1/3 * 3/4 + 1/3 * 3/4.
    value = metrics.precision_recall_ap([1, 1 / 2, 2 / 3, 3 / 4], [1 / 3, 1 / 3, 2 / 3, 1])
    assert value == pytest.approx(1 / 3 + 0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_independent_loop_on_noisy_predictions(seed):
    rng = np.random.default_rng(seed)
    target = np.stack([make_scene(rng, rng.integers(0, 11)) for _ in range(25)])
    target[0] = make_scene(rng, 4)  # at least one real object
    pred = target[:, rng.permutation(10)].copy()
    pred[:, :, :3] += rng.normal(0, 0.03, size=pred[:, :, :3].shape)  # ~0.2 original units
    swap = rng.random(pred.shape[:2]) < 0.2  # wrong colour for some
    pred[swap, 10:18] = np.roll(pred[swap, 10:18], 1, axis=-1)
    pred[:, :, 18] = np.clip(pred[:, :, 18] * 0.6 + rng.random(pred.shape[:2]) * 0.4, 0, 1)
    pred[:, 1::3] = pred[:, ::3][:, :pred[:, 1::3].shape[1]]  # duplicated rows
    pred[:, 2, 18] = pred[:, 0, 18]  # some exact score ties
    results = []
    for threshold in metrics.DISTANCE_THRESHOLDS:
        got = metrics.average_precision(pred, target, threshold)
        assert got == pytest.approx(reference_ap(pred, target, threshold), abs=1e-12)
        results.append(got)
    assert 0.05 < results[2] and results[-1] < results[0] < 0.95  # not trivially 0 or 1
    table = metrics.average_precision_table(pred, target)
    assert list(table.values()) == pytest.approx(results)


def test_rejects_bad_inputs():
    target = make_object()[None, None]
    with pytest.raises(ValueError, match="19"):
        metrics.average_precision(np.zeros((1, 1, 18)), target)
    with pytest.raises(ValueError, match="distance_threshold"):
        metrics.average_precision(target, target, 0.0)
    with pytest.raises(ValueError, match="no real objects"):
        metrics.average_precision(target, np.zeros((1, 1, 19)))
    with pytest.raises(ValueError, match="images"):
        metrics.average_precision(np.zeros((2, 1, 19)), target)
