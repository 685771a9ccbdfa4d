"""Evaluation metrics: ARI / FG-ARI, mBO, matched mIoU, set-prediction AP, summaries.

Everything here is plain numpy on host arrays (TF tensors are converted with np.asarray),
vectorised over the batch. Segmentation metrics take integer label maps:

    true_ids  [B, P]  ground-truth entity id per pixel (0 = background)
    pred_ids  [B, P]  predicted slot id per pixel (argmax of the slot masks)

`masks_to_ids` turns mask stacks [B, K, H, W(, 1)] into such maps. Per-image results are
[B] arrays; `summarize` reduces them to a mean with a 95% confidence interval.
"""

import numpy as np
from scipy import optimize, stats

from keras_slots.set_prediction import targets


class MetricInputError(ValueError):
    """Raised when a metric receives arrays of the wrong shape, type or range."""


# === Label maps ===


def masks_to_ids(masks):
    """Converts a stack of per-entity masks into per-pixel argmax ids.

    Args:
        masks: [B, K, H, W, 1] or [B, K, H, W] soft masks (e.g. slot attention or decoder
            alphas) or 0/255 ground-truth masks. Ties go to the lowest entity index.

    Returns:
        int64 [B, H * W] index of the entity with the largest mask value at each pixel.
    """
    masks = np.asarray(masks)
    if masks.ndim == 5 and masks.shape[-1] == 1:
        masks = masks[..., 0]  # [B, K, H, W]
    if masks.ndim != 4:
        raise MetricInputError(
            f"masks must be [B, K, H, W] or [B, K, H, W, 1], got shape {masks.shape}")
    ids = np.argmax(masks, axis=1)  # [B, H, W]
    return ids.reshape(ids.shape[0], -1).astype(np.int64)  # [B, H * W]


def _check_ids(ids, name):
    """Returns ids as int64 [B, P]; trailing axes are flattened."""
    ids = np.asarray(ids)
    if ids.ndim < 2:
        raise MetricInputError(f"{name} must be [B, P], got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise MetricInputError(f"{name} must hold integers, got dtype {ids.dtype}")
    if ids.size and ids.min() < 0:
        raise MetricInputError(f"{name} must be non-negative, got {ids.min()}")
    return ids.reshape(ids.shape[0], -1).astype(np.int64)  # [B, P]


def _num_labels(ids, given, name):
    """Number of label values: `given`, or max id + 1 over the batch."""
    needed = int(ids.max()) + 1 if ids.size else 1
    if given is None:
        return needed
    if given < needed:
        raise MetricInputError(f"{name}={given} but ids go up to {needed - 1}")
    return int(given)


def contingency(true_ids, pred_ids, num_true=None, num_pred=None, include=None):
    """Per-image contingency tables of two label maps.

    Args:
        true_ids: int [B, P] first labelling.
        pred_ids: int [B, P] second labelling.
        num_true: number of true labels (default: max id + 1 over the batch).
        num_pred: number of predicted labels (default: max id + 1 over the batch).
        include: optional bool [B, P]; only pixels marked True are counted.

    Returns:
        int64 [B, num_true, num_pred]; entry [b, i, j] counts the pixels of image b with
        true id i and predicted id j.
    """
    true_ids = _check_ids(true_ids, "true_ids")
    pred_ids = _check_ids(pred_ids, "pred_ids")
    if true_ids.shape != pred_ids.shape:
        raise MetricInputError(
            f"true_ids {true_ids.shape} and pred_ids {pred_ids.shape} differ in shape")
    num_true = _num_labels(true_ids, num_true, "num_true")
    num_pred = _num_labels(pred_ids, num_pred, "num_pred")
    batch = true_ids.shape[0]
    cells = num_true * num_pred
    offsets = np.arange(batch, dtype=np.int64)[:, None] * cells  # [B, 1]
    combined = offsets + true_ids * num_pred + pred_ids  # [B, P]
    if include is not None:
        combined = combined[np.asarray(include, dtype=bool).reshape(combined.shape)]  # [M]
    counts = np.bincount(combined.ravel(), minlength=batch * cells)  # [B * Kt * Kp]
    return counts.astype(np.int64).reshape(batch, num_true, num_pred)


# === Adjusted Rand index ===


def _pairs(n):
    """Number of unordered pairs n * (n - 1) / 2, elementwise, int64."""
    return n * (n - 1) // 2


CONVENTIONS = ("sklearn", "deepmind")


def ari(true_ids, pred_ids, ignore_background=False, num_true=None, num_pred=None, *,
        num_background=1, convention="sklearn"):
    """Adjusted Rand index per image between ground-truth ids and predicted slot ids.

    The index is computed from the per-image contingency table n_ij (pixel counts of true
    id i and predicted id j) with a_i = sum_j n_ij, b_j = sum_i n_ij, N = sum n_ij:
        index = sum C(n_ij, 2), A = sum C(a_i, 2), B = sum C(b_j, 2), T = C(N, 2)
        ARI = (index - A * B / T) / ((A + B) / 2 - A * B / T),
    evaluated in the equivalent pair-counting form scikit-learn uses.

    Edge cases: the formula is 0 / 0 when both labellings put all counted pixels into one
    cluster, when no pixel is counted (empty foreground with `ignore_background`, or a
    single pixel), or, for tiny inputs only, when both put every pixel in its own cluster.
    These images get edge=True, so callers can count them, and a score that depends on
    `convention`:
        "sklearn": 1.0 (scikit-learn's `adjusted_rand_score`).
        "deepmind": DeepMind's `segmentation_metrics.adjusted_rand_index`: 1.0 only when
            both labellings are constant over ALL pixels of the image (background pixels
            included: with the background dropped, DeepMind's argmax maps a background
            pixel to the first foreground entity), NaN in every other 0 / 0 case.
    Any other labelling pair gets the formula's value, which is exactly 1.0 for identical
    partitions whatever the id permutation.

    Args:
        true_ids: int [B, P] ground-truth entity id per pixel (ids below num_background
            are background).
        pred_ids: int [B, P] predicted slot id per pixel.
        ignore_background: if True (FG-ARI), only pixels whose true id is >= num_background
            count.
        num_true: number of ground-truth ids (default: max id + 1 over the batch).
        num_pred: number of slots (default: max id + 1 over the batch).
        num_background: how many leading entity ids are background (1 for most datasets;
            4 for Objects Room: sky, floor and two walls).
        convention: "sklearn" or "deepmind", the score of the 0 / 0 cases (see above).

    Returns:
        (scores, edge): float64 [B] ARI per image and bool [B] marking the edge cases above.
    """
    if convention not in CONVENTIONS:
        raise MetricInputError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if num_background < 1:
        raise MetricInputError(f"num_background must be >= 1, got {num_background}")
    true_ids = _check_ids(true_ids, "true_ids")
    pred_ids = _check_ids(pred_ids, "pred_ids")
    include = (true_ids >= num_background) if ignore_background else None  # [B, P]
    table = contingency(true_ids, pred_ids, num_true, num_pred, include)  # [B, Kt, Kp]
    num_pixels = table.sum(axis=(1, 2))  # [B]
    same_both = _pairs(table).sum(axis=(1, 2))  # [B] pairs together in both
    same_true = _pairs(table.sum(axis=2)).sum(axis=1)  # [B] pairs together in truth
    same_pred = _pairs(table.sum(axis=1)).sum(axis=1)  # [B] pairs together in prediction
    all_pairs = _pairs(num_pixels)  # [B]
    # Pair confusion counts (exact integers): together in both / only one / neither.
    tp = same_both
    fn = same_true - same_both
    fp = same_pred - same_both
    tn = all_pairs - same_true - same_pred + same_both
    agree = (fn == 0) & (fp == 0)  # [B] identical partitions
    edge = agree & ((tp == 0) | (tn == 0))  # [B] 0 / 0 cases
    tp, fn, fp, tn = (x.astype(np.float64) for x in (tp, fn, fp, tn))
    numerator = 2.0 * (tp * tn - fn * fp)  # [B]
    denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)  # [B]
    safe = np.where(agree, 1.0, denominator)  # [B]
    scores = np.where(agree, 1.0, numerator / safe)  # [B]
    if convention == "deepmind":
        # DeepMind's true ids over all pixels: argmax of the kept mask channels, so a
        # dropped (background) pixel reads as the first kept entity.
        dm_true = np.where(true_ids >= num_background, true_ids, num_background) \
            if ignore_background else true_ids  # [B, P]
        constant = (np.all(dm_true == dm_true[:, :1], axis=1)
                    & np.all(pred_ids == pred_ids[:, :1], axis=1))  # [B]
        scores = np.where(edge, np.where(constant, 1.0, np.nan), scores)  # [B]
    return scores, edge


def fg_ari(true_ids, pred_ids, num_true=None, num_pred=None, *, num_background=1,
           convention="sklearn"):
    """Foreground ARI: `ari` over pixels whose ground-truth id is >= num_background.

    Args:
        true_ids: int [B, P] ground-truth entity id per pixel (ids below num_background
            are background).
        pred_ids: int [B, P] predicted slot id per pixel.
        num_true: number of ground-truth ids (default: max id + 1 over the batch).
        num_pred: number of slots (default: max id + 1 over the batch).
        num_background: leading entity ids that are background (default 1: id 0 only).
        convention: "sklearn" or "deepmind" score of the 0 / 0 cases (see `ari`).

    Returns:
        (scores, edge): float64 [B] and bool [B]; images with no foreground pixel (or one
        foreground object that one slot covers) are edge cases, scored as `ari` says.
    """
    return ari(true_ids, pred_ids, ignore_background=True, num_true=num_true,
               num_pred=num_pred, num_background=num_background, convention=convention)


# === Mask overlap: mBO and matched mIoU ===


def _as_ids(values, name):
    """Masks [B, K, H, W(, 1)] -> argmax ids [B, P]; ids [B, P] pass through.

    Returns:
        (ids [B, P], number of labels or None when unknown).
    """
    values = np.asarray(values)
    if values.ndim in (4, 5):
        return masks_to_ids(values), values.shape[1]
    if values.ndim == 2:
        return _check_ids(values, name), None
    raise MetricInputError(
        f"{name} must be ids [B, P] or masks [B, K, H, W(, 1)], got shape {values.shape}")


def _iou_tables(true_masks, pred_ids_or_masks, num_background=1):
    """IoU of every ground-truth entity with every predicted (argmax) mask.

    Returns:
        iou: float64 [B, Kt, Kp] (0 where the union is empty).
        is_object: bool [B, Kt] foreground entities (id >= num_background) with a
            non-empty mask.
    """
    true_ids, num_true = _as_ids(true_masks, "true_masks")
    pred_ids, num_pred = _as_ids(pred_ids_or_masks, "pred_ids_or_masks")
    table = contingency(true_ids, pred_ids, num_true, num_pred)  # [B, Kt, Kp]
    true_area = table.sum(axis=2)  # [B, Kt]
    pred_area = table.sum(axis=1)  # [B, Kp]
    union = true_area[:, :, None] + pred_area[:, None, :] - table  # [B, Kt, Kp]
    iou = table / np.maximum(union, 1)  # [B, Kt, Kp]
    is_object = true_area > 0  # [B, Kt]
    is_object[:, :num_background] = False  # the leading entities are background
    return iou, is_object


def mean_best_overlap(true_masks, pred_ids_or_masks, num_background=1):
    """Mean best overlap (mBO) per image.

    For every ground-truth foreground object (entity id >= num_background whose mask is
    non-empty) take the best IoU with any predicted binary mask (argmax over slots, so
    predicted masks partition the image, background pixels included), then average over
    the objects of the image. Images without a foreground object get NaN; `summarize` leaves NaNs out of
    the statistics and reports how many there were (n_nan).

    Args:
        true_masks: ground-truth masks [B, K, H, W(, 1)] (0/255, entity 0 = background) or
            ground-truth ids [B, P].
        pred_ids_or_masks: predicted slot ids [B, P] or slot masks [B, S, H, W(, 1)].
        num_background: leading entity ids that are background, not objects (default 1).

    Returns:
        float64 [B] mBO per image, NaN where the image has no foreground object.
    """
    iou, is_object = _iou_tables(true_masks, pred_ids_or_masks,
                                 num_background)  # [B, Kt, Kp], [B, Kt]
    best = iou.max(axis=2)  # [B, Kt]
    num_objects = is_object.sum(axis=1)  # [B]
    total = np.where(is_object, best, 0.0).sum(axis=1)  # [B]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(num_objects > 0, total / num_objects, np.nan)


def miou_matched(true_masks, pred_ids_or_masks, num_background=1):
    """Mean IoU after Hungarian matching of ground-truth objects to predicted masks.

    Per image, ground-truth foreground objects (entity id >= num_background, non-empty
    mask) are matched one-to-one to predicted binary (argmax) masks so that the summed IoU
    is largest (scipy.optimize.linear_sum_assignment); objects left without a predicted
    mask (more objects than slots) count as IoU 0. The score is the mean over the image's objects.
    Images without a foreground object get NaN, as in `mean_best_overlap`.

    Args:
        true_masks: ground-truth masks [B, K, H, W(, 1)] (0/255, entity 0 = background) or
            ground-truth ids [B, P].
        pred_ids_or_masks: predicted slot ids [B, P] or slot masks [B, S, H, W(, 1)].
        num_background: leading entity ids that are background, not objects (default 1).

    Returns:
        float64 [B] matched mIoU per image, NaN where the image has no foreground object.
    """
    iou, is_object = _iou_tables(true_masks, pred_ids_or_masks,
                                 num_background)  # [B, Kt, Kp], [B, Kt]
    scores = np.full(iou.shape[0], np.nan)  # [B]
    for b in range(iou.shape[0]):  # the assignment problem is solved per image
        objects = iou[b][is_object[b]]  # [n_objects, Kp]
        if objects.shape[0] == 0:
            continue
        rows, cols = optimize.linear_sum_assignment(objects, maximize=True)
        scores[b] = objects[rows, cols].sum() / objects.shape[0]
    return scores


# === Summary statistics ===


def summarize(values):
    """Mean, sample standard deviation and 95% t-distribution confidence interval of the mean.

    NaNs (e.g. images without foreground objects) are left out and counted.

    Args:
        values: array-like of per-image (or per-seed) scores.

    Returns:
        dict with mean, std (ddof=1), ci95_low, ci95_high (mean -+ t_{n-1} * std / sqrt(n)),
        n (number of finite values used) and n_nan (number of NaNs left out). With n < 2 the
        std and interval are NaN; with n = 0 the mean is NaN too.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    is_nan = np.isnan(values)
    kept = values[~is_nan]
    n = kept.size
    mean = kept.mean() if n else np.nan
    std = kept.std(ddof=1) if n > 1 else np.nan
    if n > 1:
        half_width = stats.t.ppf(0.975, df=n - 1) * std / np.sqrt(n)
    else:
        half_width = np.nan
    return {
        "mean": float(mean),
        "std": float(std),
        "ci95_low": float(mean - half_width),
        "ci95_high": float(mean + half_width),
        "n": int(n),
        "n_nan": int(is_nan.sum()),
    }


# === Set prediction: average precision ===

DISTANCE_THRESHOLDS = (np.inf, 1.0, 0.5, 0.25, 0.125)  # the paper's AP thresholds


def _check_set(values, name):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3 or values.shape[-1] != targets.ELEMENT_SIZE:
        raise MetricInputError(
            f"{name} must be [B, S, {targets.ELEMENT_SIZE}], got shape {values.shape}")
    return values


def _scores(pred):
    """[B, S, 19] predictions -> [B * S] real-object scores, in the dtype they came in."""
    pred = np.asarray(pred)
    return pred.reshape(-1, pred.shape[-1])[:, -1] if pred.ndim == 3 else pred.ravel()


def _discrete_properties(values):
    """[..., 19] -> int [..., 4] argmax of size, material, shape and colour."""
    return np.stack([np.argmax(values[..., block], axis=-1)
                     for block in targets.PROPERTY_SLICES.values()], axis=-1)


def ranking(scores):
    """Order in which predictions are visited: decreasing score, as the paper's code ranks.

    That is numpy's default argsort (not a stable one) of the flattened scores, reversed:
    `np.argsort(scores)[::-1]`. Equal scores (common: a trained model's sigmoid confidences
    saturate to exactly 1.0 in float32) come in the order that sort leaves them, which for
    more than 16 scores is not the order of their indices, and can depend on the dtype, the
    numpy version and the CPU's vector instructions; ranking the same array the same way
    as the paper's code gives the same AP on the same machine. Pass the scores in the dtype
    the model produced, not converted.

    Args:
        scores: [M] real-object scores.

    Returns:
        int [M] indices into scores, best first.
    """
    return np.argsort(np.asarray(scores))[::-1]


def nearest_matching_targets(pred, target):
    """For each prediction, the nearest real target with the same four discrete properties.

    Args:
        pred: [B, S, 19] predictions.
        target: [B, T, 19] targets (rows with real-object flag 0 are padding).

    Returns:
        (index int [B, S], distance float64 [B, S]): the target row and its 3D distance in
        original units (6 x the distance of the [0, 1] coordinates); index -1 and distance
        inf where no real target of the image has the prediction's size, material, shape
        and colour. Equal distances go to the lower target row.
    """
    offsets = targets.COORD_SCALE * (pred[:, :, None, targets.COORDS]
                                     - target[:, None, :, targets.COORDS])  # [B, S, T, 3]
    distance = np.sqrt(np.sum(offsets ** 2, axis=-1))  # [B, S, T]
    same = np.all(_discrete_properties(pred)[:, :, None, :]
                  == _discrete_properties(target)[:, None, :, :], axis=-1)  # [B, S, T]
    real = target[:, None, :, targets.REAL_OBJECT] != 0  # [B, 1, T]
    distance = np.where(same & real, distance, np.inf)  # [B, S, T]
    if distance.shape[2] == 0:
        return np.full(distance.shape[:2], -1), np.full(distance.shape[:2], np.inf)
    index = np.argmin(distance, axis=2)  # [B, S] first minimum
    nearest = np.take_along_axis(distance, index[:, :, None], axis=2)[:, :, 0]  # [B, S]
    return np.where(np.isfinite(nearest), index, -1), nearest


def set_true_positives(pred, target, distance_threshold):
    """Marks which predictions are true positives under the paper's AP rule.

    Predictions are visited in decreasing order of their real-object score (`ranking` over
    all images at once). Each one looks up the nearest real target of its image whose size,
    material, shape and colour (argmax) all equal its own; the nearest is taken among ALL
    such targets, also those a higher-ranked prediction already detected. It is a true
    positive iff that distance, in original 3D units, is strictly below
    `distance_threshold` and the target was not detected before; the target is then
    detected. Otherwise (no such target, too far, or already detected) it is a false
    positive. So a duplicate prediction of a detected object is a false positive even when
    another object with the same properties lies within the threshold.

    Args:
        pred: [B, S, 19] predictions.
        target: [B, T, 19] targets (padding rows have real-object flag 0).
        distance_threshold: positive float or np.inf (any distance).

    Returns:
        bool [B, S] true-positive flag of each prediction (in the given slot order).
    """
    order = ranking(_scores(pred))  # [B * S], before the float64 copy (see `ranking`)
    pred = _check_set(pred, "pred")
    target = _check_set(target, "target")
    if pred.shape[0] != target.shape[0]:
        raise MetricInputError(
            f"pred has {pred.shape[0]} images but target has {target.shape[0]}")
    if not distance_threshold > 0:
        raise MetricInputError(f"distance_threshold must be > 0 or inf, got {distance_threshold}")
    batch, num_pred = pred.shape[:2]
    index, distance = nearest_matching_targets(pred, target)  # [B, S] each
    candidate = (index >= 0) & (distance < distance_threshold)  # [B, S]
    # A target is detected by the first prediction in the ranking that is a candidate for
    # it; every later candidate for the same target is a duplicate.
    images = np.repeat(np.arange(batch), num_pred)  # [B * S]
    keys = (images * target.shape[1] + index.ravel())[order]  # [B * S] in ranked order
    ranked_candidate = candidate.ravel()[order]  # [B * S]
    _, first = np.unique(np.where(ranked_candidate, keys, -1), return_index=True)
    ranked_hits = np.zeros(order.size, dtype=bool)  # [B * S]
    ranked_hits[first] = True
    ranked_hits &= ranked_candidate
    hits = np.zeros(order.size, dtype=bool)
    hits[order] = ranked_hits
    return hits.reshape(batch, num_pred)


def precision_recall_ap(precision, recall):
    """Area under the interpolated precision-recall curve.

    Precision is made monotone decreasing from the right (each point takes the best
    precision at equal or higher recall), then summed over the recall increments:
    AP = sum_i p_interp(r_i) * (r_i - r_{i-1}), starting from recall 0.

    Args:
        precision: [N] precision after each ranked prediction.
        recall: [N] recall after each ranked prediction (non-decreasing).

    Returns:
        float AP in [0, 1].
    """
    precision = np.concatenate([np.asarray(precision, np.float64), [0.0]])  # [N + 1]
    recall = np.concatenate([[0.0], np.asarray(recall, np.float64)])  # [N + 1]
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # [N + 1]
    steps = np.diff(recall)  # [N]
    return float(np.sum(envelope[:-1] * steps))


def average_precision(pred, target, distance_threshold=np.inf):
    """Set-prediction average precision over a dataset (CLEVR property prediction).

    The paper's metric. All B * S predictions are ranked by their real-object score
    (index 18; see `ranking`) and each is marked a true or false positive by
    `set_true_positives`: it must have the size, material, shape and colour (argmax) of
    the nearest such real target of its image, lie strictly closer than
    `distance_threshold` to it in original units ((x, y, z) = 6 * coords - 3), and that
    target must not have been detected by a higher-ranked prediction. Precision (true
    positives over predictions so far) and recall (true positives over all real targets)
    along the ranking give AP by `precision_recall_ap`. Rows are in the layout of
    `keras_slots.set_prediction.targets`.

    Args:
        pred: [B, S, 19] predictions (sigmoid outputs).
        target: [B, T, 19] targets; rows with real-object flag 0 are padding.
        distance_threshold: float > 0, or np.inf to ignore positions (paper: inf, 1, 0.5,
            0.25, 0.125).

    Returns:
        float AP in [0, 1].
    """
    hits = set_true_positives(pred, target, distance_threshold)  # [B, S]
    target = np.asarray(target, dtype=np.float64)
    num_real = int(np.sum(target[:, :, targets.REAL_OBJECT] != 0))
    if num_real == 0:
        raise MetricInputError("target has no real objects, so recall is undefined")
    ranked = hits.ravel()[ranking(_scores(pred))]  # [B * S]
    true_positives = np.cumsum(ranked)  # [B * S]
    precision = true_positives / np.arange(1, ranked.size + 1)  # [B * S]
    recall = true_positives / num_real  # [B * S]
    return precision_recall_ap(precision, recall)


def average_precision_table(pred, target, thresholds=DISTANCE_THRESHOLDS):
    """AP at each distance threshold (the paper's Table 2 row).

    Args:
        pred: [B, S, 19] predictions.
        target: [B, T, 19] targets.
        thresholds: distance thresholds in original units (np.inf: positions ignored).

    Returns:
        dict threshold -> float AP in [0, 1].
    """
    return {threshold: average_precision(pred, target, threshold) for threshold in thresholds}
