"""Runs a trained autoencoder over a test split and scores its segmentation."""

import numpy as np
import tensorflow as tf

from keras_slots import metrics

METRICS = ("fg_ari", "ari", "mbo", "miou")
# With several background masks (Objects Room), the variants that drop mask 0 only (the
# DeepMind README's FG-ARI recipe) are reported beside the main ones under these names.
BG0_METRICS = ("fg_ari_bg0", "mbo_bg0", "miou_bg0")
SPREAD = "std over test images (one trained model, one noise seed), not over training seeds"


def metric_names(results):
    """The metrics present in `evaluate` results, in report order."""
    return METRICS + tuple(name for name in BG0_METRICS if name in results)


def evaluate(model, dataset, *, batch_size=32, seed=0, num_slots=None, num_iterations=None,
             keep_images=8, num_background=1, convention="sklearn"):
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
        num_background: leading ground-truth masks that are background (see
            DatasetInfo.num_background); FG-ARI, mBO and mIoU ignore all of them.
        convention: score of the ARI's 0/0 cases, "sklearn" (1.0) or "deepmind" (see
            metrics.ari).

    Returns:
        dict with per-image arrays "fg_ari", "ari", "mbo", "miou" [num_images], edge-case
        flags "fg_ari_edge", "ari_edge" [num_images] (images where the ARI is 0/0, see
        metrics.ari), and "images" / "outputs" of the first batch. With num_background > 1
        also "fg_ari_bg0", "mbo_bg0", "miou_bg0" (and "fg_ari_bg0_edge"): the same metrics
        with only mask 0 treated as background.
    """

    @tf.function
    def predict(images, batch_seed):
        return model(images, num_slots=num_slots, num_iterations=num_iterations,
                     seed=batch_seed)

    variants = [("", num_background)] + ([("_bg0", 1)] if num_background > 1 else [])
    names = METRICS + ("fg_ari_edge", "ari_edge")
    if num_background > 1:
        names += BG0_METRICS + ("fg_ari_bg0_edge",)
    results = {name: [] for name in names}
    sample = None
    for i, batch in enumerate(dataset.batch(batch_size)):
        out = predict(batch["image"], tf.constant([seed, i], tf.int32))
        # Argmax once; every metric takes the id maps.
        true_ids = metrics.masks_to_ids(batch["mask"].numpy())  # [B, H*W]
        pred_ids = metrics.masks_to_ids(out["masks"].numpy())  # [B, H*W]
        scores, edge = metrics.ari(true_ids, pred_ids, convention=convention)
        results["ari"].append(scores)
        results["ari_edge"].append(edge)
        for suffix, background in variants:
            scores, edge = metrics.fg_ari(true_ids, pred_ids, num_background=background,
                                          convention=convention)
            results[f"fg_ari{suffix}"].append(scores)
            results[f"fg_ari{suffix}_edge"].append(edge)
            results[f"mbo{suffix}"].append(
                metrics.mean_best_overlap(true_ids, pred_ids, background))
            results[f"miou{suffix}"].append(metrics.miou_matched(true_ids, pred_ids, background))
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
        dict metric -> dict(mean, std, ci95_low, ci95_high, n, ...) plus "num_images" and
        "spread" (what the std is taken over).
    """
    table = {"num_images": int(len(results["ari"])), "spread": SPREAD}
    for name in metric_names(results):
        table[name] = metrics.summarize(results[name])
        if f"{name}_edge" in results:
            table[name]["edge_cases"] = int(np.sum(results[f"{name}_edge"]))
    return table


def markdown(table):
    """Renders `summary_table` output as a markdown table (values in percent)."""
    lines = ["| metric | mean | std over images | 95% CI | images | edge cases |",
             "|---|---|---|---|---|---|"]
    for name in metric_names(table):
        row = table[name]
        lines.append(
            f"| {name.upper().replace('_', '-')} | {100 * row['mean']:.1f} | "
            f"{100 * row['std']:.1f} | [{100 * row['ci95_low']:.1f}, "
            f"{100 * row['ci95_high']:.1f}] | {row['n']} | {row.get('edge_cases', '-')} |"
        )
    if any(name in table for name in BG0_METRICS):
        lines.append("")
        lines.append("FG-ARI, mBO, mIoU: all background masks ignored; the *-BG0 rows ignore "
                     "mask 0 only.")
    return "\n".join(lines)


def per_image_rows(results):
    """Per-image scores of `evaluate` results as a list of dicts (index, metric: score)."""
    names = metric_names(results)
    edges = [name for name in results if name.endswith("_edge")]
    rows = []
    for i in range(len(results["ari"])):
        row = {"index": i}
        row.update({name: float(results[name][i]) for name in names})
        row.update({name: bool(results[name][i]) for name in edges})
        rows.append(row)
    return rows


INSPECTION = ("recon_mse", "slot_usage_max", "mask_entropy", "slot_similarity")


def inspect(model, dataset, *, batch_size=32, seed=0, num_slots=None, num_iterations=None,
            keep_images=8):
    """Describes the model's output image by image, without ground truth.

    The slot noise of batch i uses the stateless seed (seed, i), as in `evaluate`.

    Args:
        model: a SlotAttentionAutoEncoder.
        dataset: unbatched elements with "image" [H, W, 3] in [-1, 1] (and "file", the
            picture's path, when it comes from an image folder).
        batch_size: evaluation batch size.
        seed: seed of the slot noise.
        num_slots: slots to use (default: the trained number).
        num_iterations: iterations to use (default: the trained number).
        keep_images: how many images (and outputs) of the first batch to return.

    Returns:
        dict of per-image arrays: "file" [N] (str; "" when unknown), "recon_mse" [N]
        (mean squared error in the [-1, 1] range), "slot_usage" [N, K] (fraction of
        pixels each slot wins), "slot_usage_max" [N], "mask_entropy" [N] (nats),
        "slot_similarity" [N] (see keras_slots.diagnostics); plus "images" / "outputs"
        of the first batch.
    """
    from keras_slots import diagnostics

    @tf.function
    def predict(images, batch_seed):
        return model(images, num_slots=num_slots, num_iterations=num_iterations,
                     seed=batch_seed)

    results = {name: [] for name in ("file", "recon_mse", "slot_usage", "mask_entropy",
                                     "slot_similarity")}
    sample = None
    for i, batch in enumerate(dataset.batch(batch_size)):
        images = batch["image"]  # [B, H, W, 3]
        out = predict(images, tf.constant([seed, i], tf.int32))
        recon = tf.cast(out["recon"], tf.float32)  # [B, H, W, 3]
        results["recon_mse"].append(tf.reduce_mean(tf.square(recon - images),
                                                   axis=[1, 2, 3]).numpy())  # [B]
        results["slot_usage"].append(diagnostics.slot_usage(out["masks"]).numpy())  # [B, K]
        results["mask_entropy"].append(diagnostics.mask_entropy(out["masks"]).numpy())
        results["slot_similarity"].append(diagnostics.slot_similarity(out["slots"]).numpy())
        names = batch["file"].numpy() if "file" in batch else [b""] * len(images)
        results["file"].append(np.array([n.decode("utf-8") for n in names]))
        if sample is None:
            sample = (images.numpy()[:keep_images],
                      {k: v.numpy()[:keep_images] for k, v in out.items()})
    if sample is None:
        raise ValueError("the dataset to inspect is empty")
    results = {k: np.concatenate(v) for k, v in results.items()}
    results["slot_usage_max"] = results["slot_usage"].max(axis=1)  # [N]
    results["images"], results["outputs"] = sample
    return results


def inspection_table(results):
    """Mean, std and 95% CI of each `inspect` number, plus "num_images"."""
    table = {"num_images": int(len(results["recon_mse"])), "spread": SPREAD}
    for name in INSPECTION:
        table[name] = metrics.summarize(results[name])
    return table


def inspection_rows(results):
    """Per-image `inspect` results as a list of dicts (index, file, numbers, slot usage)."""
    rows = []
    for i, name in enumerate(results["file"]):
        row = {"index": i, "file": str(name)}
        row.update({key: float(results[key][i]) for key in INSPECTION})
        row["slot_usage"] = [round(float(u), 4) for u in results["slot_usage"][i]]
        row["slots_used"] = int(np.sum(results["slot_usage"][i] > 0))
        rows.append(row)
    return rows


def inspection_markdown(table):
    """Renders `inspection_table` output as a markdown table."""
    lines = ["| number | mean | std over images | 95% CI | images |", "|---|---|---|---|---|"]
    for name in INSPECTION:
        row = table[name]
        lines.append(f"| {name} | {row['mean']:.4f} | {row['std']:.4f} | "
                     f"[{row['ci95_low']:.4f}, {row['ci95_high']:.4f}] | {row['n']} |")
    return "\n".join(lines)
