"""Set-prediction loss: Huber cost of every (target, slot) pair, Hungarian matching.

Slots come out in no particular order, so each target object is paired with one slot by
solving the assignment problem on the pairwise cost (scipy's `linear_sum_assignment`,
called through `tf.numpy_function`); the loss is the sum of the matched costs per image.
The matching itself carries no gradient: gradients flow through the matched pairs' costs
only. Everything runs inside a `tf.function` and in a replica context of a
`tf.distribute` strategy (each replica matches its own images on the host).
"""

import numpy as np
import tensorflow as tf
from scipy import optimize


def pairwise_huber_cost(target, pred, delta=1.0):
    """Huber loss of every (target, slot) pair, averaged over the feature axis.

    Per number: 0.5 e^2 if |e| <= delta, else delta * (|e| - 0.5 delta), e = pred - target
    (the same as `keras.losses.Huber(delta)` of one pair).

    Args:
        target: [B, T, D] target set.
        pred: [B, K, D] predicted set.
        delta: where the cost turns from quadratic to linear.

    Returns:
        float32 [B, T, K]; entry [b, t, k] is the cost of giving target t to slot k.
    """
    target = tf.cast(target, tf.float32)[:, :, None, :]  # [B, T, 1, D]
    pred = tf.cast(pred, tf.float32)[:, None, :, :]  # [B, 1, K, D]
    error = tf.abs(pred - target)  # [B, T, K, D]
    quadratic = tf.minimum(error, delta)  # [B, T, K, D]
    linear = error - quadratic  # [B, T, K, D]
    return tf.reduce_mean(0.5 * quadratic ** 2 + delta * linear, axis=-1)  # [B, T, K]


def _assign(cost):
    """numpy float64 [B, T, K] -> (rows, cols) int32 [B, M], M = min(T, K), per image."""
    if not np.all(np.isfinite(cost)):
        raise ValueError("the matching cost holds NaN or inf (diverged predictions?)")
    pairs = [optimize.linear_sum_assignment(image_cost) for image_cost in cost]
    size = min(cost.shape[1:])
    rows = np.array([r for r, _ in pairs], np.int32).reshape(len(cost), size)
    cols = np.array([c for _, c in pairs], np.int32).reshape(len(cost), size)
    return rows, cols


def hungarian_match(cost):
    """Minimum-cost one-to-one matching of targets to slots, per image.

    Args:
        cost: [B, T, K] pairwise cost (see `pairwise_huber_cost`).

    Returns:
        (rows, cols): int32 [B, M], M = min(T, K); target rows[b, i] goes to slot
        cols[b, i]. Rows are in increasing order, so with T <= K rows[b] = 0 .. T - 1 and
        cols[b] is the slot of each target. With T > K the targets left out are unmatched.
    """
    cost = tf.convert_to_tensor(cost)
    rows, cols = tf.numpy_function(
        _assign, [tf.cast(tf.stop_gradient(cost), tf.float64)], [tf.int32, tf.int32],
        stateful=False, name="linear_sum_assignment")
    num_matched = min(cost.shape[1], cost.shape[2]) \
        if cost.shape[1] is not None and cost.shape[2] is not None else None
    rows.set_shape([cost.shape[0], num_matched])
    cols.set_shape([cost.shape[0], num_matched])
    return rows, cols


def hungarian_huber_loss(target, pred, delta=1.0):
    """Per-image set loss: the summed Huber cost of the Hungarian-matched pairs.

    Average it over the global batch, e.g. with `tf.nn.compute_average_loss(loss,
    global_batch_size=...)` in a distributed step (`tf.reduce_mean` on one replica): that
    is the paper's loss, the sum of matched costs per image averaged over the batch.

    Args:
        target: [B, T, D] target set (padding rows included: they teach the empty slots a
            real-object score of 0).
        pred: [B, K, D] predicted set, K >= T for every target to be matched.
        delta: Huber delta (paper: 1).

    Returns:
        float32 [B] loss per image; its gradient reaches only the matched (target, slot)
        pairs.
    """
    cost = pairwise_huber_cost(target, pred, delta)  # [B, T, K]
    rows, cols = hungarian_match(cost)  # [B, M] each
    matched = tf.gather_nd(cost, tf.stack([rows, cols], axis=-1), batch_dims=1)  # [B, M]
    return tf.reduce_sum(matched, axis=1)  # [B]
