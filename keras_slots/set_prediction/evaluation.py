"""Scores a set-prediction model: AP at the paper's distance thresholds, as JSON and markdown."""

import numpy as np
import tensorflow as tf

from keras_slots import metrics
from keras_slots.set_prediction import targets

# The paper's Table 2 (Slot Attention, CLEVR, 150k steps), AP in percent.
PAPER_AP = {np.inf: 94.3, 1.0: 86.7, 0.5: 56.0, 0.25: 10.8, 0.125: 0.9}


def threshold_name(threshold):
    """Display name of a distance threshold: "inf", "1", "0.5", ..."""
    return "inf" if np.isinf(threshold) else f"{threshold:g}"


def predict(model, dataset, *, batch_size=32, seed=0, num_slots=None, num_iterations=None,
            keep_images=8):
    """Runs the model over a dataset; the slot noise of batch i uses the seed (seed, i).

    Args:
        model: a SlotAttentionSetPredictor.
        dataset: unbatched {"image": [H, W, 3], "target": [T, 19]} examples.
        batch_size: images per model call.
        seed: seed of the slot noise (the same seed and batch size repeat the results).
        num_slots, num_iterations: test-time settings (default: trained).
        keep_images: images of the first batches returned for pictures.

    Returns:
        dict: "pred" float32 [N, K, 19], "target" float32 [N, T, 19], "images" float32
        [min(N, keep_images), H, W, 3].
    """

    @tf.function
    def run(images, batch_seed):
        return model(images, num_slots=num_slots, num_iterations=num_iterations,
                     seed=batch_seed)["pred"]  # [B, K, 19]

    preds, truths, images = [], [], []
    for index, batch in enumerate(dataset.batch(batch_size)):
        preds.append(run(batch["image"], tf.constant([seed, index], tf.int32)).numpy())
        truths.append(batch["target"].numpy())
        if sum(len(i) for i in images) < keep_images:
            images.append(batch["image"].numpy())
    if not preds:
        raise ValueError("the evaluation dataset is empty")
    kept = np.concatenate(images)[:keep_images]  # [n, H, W, 3]
    return {"pred": np.concatenate(preds), "target": np.concatenate(truths), "images": kept}


def ap_table(pred, target, thresholds=metrics.DISTANCE_THRESHOLDS):
    """The AP row of the paper's Table 2 and the counts it rests on.

    Args:
        pred: [N, K, 19] predictions.
        target: [N, T, 19] targets.
        thresholds: distance thresholds (np.inf: positions ignored).

    Returns:
        dict: "ap" {threshold name: AP in percent}, "num_images", "num_objects" (real
        targets) and "num_predictions".
    """
    aps = metrics.average_precision_table(pred, target, thresholds)
    return {
        "ap": {threshold_name(t): 100.0 * value for t, value in aps.items()},
        "num_images": int(len(pred)),
        "num_objects": int(np.sum(np.asarray(target)[..., targets.REAL_OBJECT] != 0)),
        "num_predictions": int(np.prod(np.shape(pred)[:2])),
    }


def markdown(table, paper=PAPER_AP):
    """A markdown table: one row per threshold, this run's AP beside the paper's.

    Args:
        table: `ap_table` output (other keys are ignored).
        paper: {threshold: AP in percent} of the paper.

    Returns:
        str.
    """
    names = {threshold_name(t): value for t, value in paper.items()}
    lines = ["| distance threshold | AP (%) | paper AP (%) |", "|---|---|---|"]
    for name, value in table["ap"].items():
        reference = f"{names[name]:.1f}" if name in names else "-"
        lines.append(f"| {'∞' if name == 'inf' else name} | {value:.1f} | {reference} |")
    return "\n".join(lines) + "\n"
