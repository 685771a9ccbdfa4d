"""Runs a trained autoencoder over a test split and scores its segmentation."""

import numpy as np
import tensorflow as tf

from keras_slots import metrics

METRICS = ("fg_ari", "ari", "mbo", "miou")


def evaluate(model, dataset, *, batch_size=32, seed=0, num_slots=None, num_iterations=None,
             keep_images=8):
    """Scores the model's masks against the ground truth, image by image.

    The slot noise of batch i uses the stateless seed (seed, i): the same seed and batch size
    give the same results.

    Args:
        model: a SlotAttentionAutoEncoder.
        dataset: unbatched model-ready elements (image, mask, ...).
        batch_size: evaluation batch size.
        seed: seed of the slot noise.
        num_slots: slots to use (default: the trained number).
        num_iterations: iterations to use (default: the trained number).
        keep_images: how many images (and outputs) of the first batch to return for pictures.

    Returns:
        dict with per-image arrays "fg_ari", "ari", "mbo", "miou" [num_images], edge-case
        flags "fg_ari_edge", "ari_edge" [num_images] (images where the ARI is 0/0 and scored
        1.0, see metrics.ari), and "images" / "outputs" of the first batch.
    """

    @tf.function
    def predict(images, batch_seed):
        return model(images, num_slots=num_slots, num_iterations=num_iterations,
                     seed=batch_seed)

    results = {name: [] for name in METRICS + ("fg_ari_edge", "ari_edge")}
    sample = None
    for i, batch in enumerate(dataset.batch(batch_size)):
        out = predict(batch["image"], tf.constant([seed, i], tf.int32))
        # Argmax once; every metric takes the id maps.
        true_ids = metrics.masks_to_ids(batch["mask"].numpy())  # [B, H*W]
        pred_ids = metrics.masks_to_ids(out["masks"].numpy())  # [B, H*W]
        for name, background in (("fg_ari", True), ("ari", False)):
            scores, edge = metrics.ari(true_ids, pred_ids, ignore_background=background)
            results[name].append(scores)
            results[f"{name}_edge"].append(edge)
        results["mbo"].append(metrics.mean_best_overlap(true_ids, pred_ids))
        results["miou"].append(metrics.miou_matched(true_ids, pred_ids))
        if sample is None:
            sample = (batch["image"].numpy()[:keep_images],
                      {k: v.numpy()[:keep_images] for k, v in out.items()})
    if sample is None:
        raise ValueError("the evaluation dataset is empty")
    results = {k: np.concatenate(v) for k, v in results.items()}
    results["images"], results["outputs"] = sample
    return results


def summary_table(results):
    """Mean, std, 95% CI and edge-case counts of `evaluate` results.

    Returns:
        dict metric -> dict(mean, std, ci95_low, ci95_high, n, ...) plus "num_images".
    """
    table = {"num_images": int(len(results["ari"]))}
    for name in METRICS:
        table[name] = metrics.summarize(results[name])
        if f"{name}_edge" in results:
            table[name]["edge_cases"] = int(np.sum(results[f"{name}_edge"]))
    return table


def markdown(table):
    """Renders `summary_table` output as a markdown table (values in percent)."""
    lines = ["| metric | mean | std | 95% CI | images | edge cases |",
             "|---|---|---|---|---|---|"]
    for name in METRICS:
        row = table[name]
        lines.append(
            f"| {name.upper().replace('_', '-')} | {100 * row['mean']:.1f} | "
            f"{100 * row['std']:.1f} | [{100 * row['ci95_low']:.1f}, "
            f"{100 * row['ci95_high']:.1f}] | {row['n']} | {row.get('edge_cases', '-')} |"
        )
    return "\n".join(lines)
