"""Diagnostics of a slot model's output that explain a failed run, no ground truth needed.

Three numbers per image, each logged (as a batch mean) under a TensorBoard tag:

    diag/slot_usage_max   the largest fraction of pixels won by one slot (`slot_usage`).
                          Near 1: one slot takes everything (also the blob phase);
                          near 1/K: every slot wins the same share.
    diag/mask_entropy     mean over pixels of the entropy of the slot masks, in nats
                          (`mask_entropy`), between 0 (every pixel owned by one slot) and
                          log K (every slot equally everywhere: "all slots alike").
    diag/slot_similarity  mean pairwise cosine similarity of the slot vectors
                          (`slot_similarity`); near 1 when the slots are copies of one
                          another, as in the blob phase before symmetry breaks.

"Background split across slots" shows as usage shared evenly by the slots (a low
slot_usage_max) while the entropy falls: each slot owns its pixels, but no slot holds an
object. The functions are pure tensor code: numpy or tensors in, tensors out.
"""

import tensorflow as tf

TAGS = ("diag/slot_usage_max", "diag/mask_entropy", "diag/slot_similarity")


def slot_usage(masks):
    """Fraction of the pixels of each image that each slot wins (argmax over slots).

    Args:
        masks: [B, K, H, W, 1] soft masks (summing to 1 over K).

    Returns:
        float32 [B, K], each row summing to 1.
    """
    masks = tf.convert_to_tensor(masks, tf.float32)[..., 0]  # [B, K, H, W]
    winner = tf.argmax(masks, axis=1)  # [B, H, W]
    won = tf.one_hot(winner, tf.shape(masks)[1], dtype=tf.float32)  # [B, H, W, K]
    return tf.reduce_mean(won, axis=[1, 2])  # [B, K]


def mask_entropy(masks, epsilon=1e-8):
    """Mean over pixels of the entropy (nats) of the masks' distribution over slots.

    Args:
        masks: [B, K, H, W, 1] soft masks (summing to 1 over K).
        epsilon: added inside the log, so empty masks count 0.

    Returns:
        float32 [B], in [0, log K].
    """
    masks = tf.convert_to_tensor(masks, tf.float32)[..., 0]  # [B, K, H, W]
    per_pixel = -tf.reduce_sum(masks * tf.math.log(masks + epsilon), axis=1)  # [B, H, W]
    return tf.reduce_mean(per_pixel, axis=[1, 2])  # [B]


def slot_similarity(slots, epsilon=1e-8):
    """Mean cosine similarity over the K * (K - 1) ordered pairs of different slots.

    Args:
        slots: [B, K, D] slot vectors, K >= 2.
        epsilon: guards the normalisation of zero vectors.

    Returns:
        float32 [B], in [-1, 1].
    """
    slots = tf.convert_to_tensor(slots, tf.float32)  # [B, K, D]
    unit = slots / (tf.norm(slots, axis=-1, keepdims=True) + epsilon)  # [B, K, D]
    cosine = tf.matmul(unit, unit, transpose_b=True)  # [B, K, K]
    k = tf.cast(tf.shape(slots)[1], tf.float32)
    off_diagonal = tf.reduce_sum(cosine, axis=[1, 2]) - tf.linalg.trace(cosine)  # [B]
    return off_diagonal / (k * (k - 1.0))  # [B]


def summary(outputs):
    """The batch means of the three diagnostics under their TensorBoard tags.

    Args:
        outputs: the model's output dict with "masks" [B, K, H, W, 1] and "slots" [B, K, D].

    Returns:
        dict tag (TAGS) -> float32 scalar tensor.
    """
    usage_max = tf.reduce_max(slot_usage(outputs["masks"]), axis=1)  # [B]
    values = (usage_max, mask_entropy(outputs["masks"]), slot_similarity(outputs["slots"]))
    return {tag: tf.reduce_mean(value) for tag, value in zip(TAGS, values)}
