"""Evaluates a trained model: FG-ARI, ARI, mBO, mIoU on the test split, plus a mask picture.

Set-prediction runs get the AP table at distance thresholds inf, 1, 0.5, 0.25, 0.125
instead (metrics.json, metrics.md, predictions.json and predictions.png: the predicted
properties drawn next to each image).

The means are also written as TensorBoard scalars to <model_dir>/eval, at the checkpoint's
training step, so evaluations show next to the training curves.

Example:
    python scripts/evaluate.py --model_dir=runs/tetrominoes

On an image folder (a run trained with --dataset=images:PATH, or --dataset=images:PATH
here) it scores the folder's test pictures when the folder has ground truth (masks.npz);
either way it writes inspect.json / inspect.md (means of the reconstruction error, the
largest slot usage, the mask entropy and the slot similarity), per-image numbers with each
slot's share of the pixels, and the mask picture. Without ground truth no FG-ARI exists:
it says so instead of printing one.
"""

import json
import os
import sys

from absl import app, flags
import tensorflow as tf

from keras_slots import cli

_MODEL_DIR = flags.DEFINE_string("model_dir", None, "Run directory written by train.py.",
                                 required=True)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "Checkpoint prefix (default: latest).")
_DATASET = flags.DEFINE_string("dataset", None, "Dataset, or images:PATH for a folder of "
                               "pictures (default: the one trained on).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Folder of published files (default: the "
                                "one trained on, saved in the config); '' for built-in data.")
_NUM_EXAMPLES = flags.DEFINE_integer("num_examples", 320, "Test images (paper: 320; an image "
                                     "folder: at most its test pictures).")
_SPLIT = flags.DEFINE_enum("split", "test", ["test", "train"], "Split to score: the held-out "
                           "test scenes (the paper's protocol) or the training ones (e.g. a "
                           "folder too small to hold any picture out).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32, "Evaluation batch size.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the slot noise (fixed: repeatable results).")
_NUM_SLOTS = flags.DEFINE_integer("num_slots", None, "Slots at test time (default: trained).")
_NUM_ITERATIONS = flags.DEFINE_integer("num_iterations", None,
                                       "Iterations at test time (default: trained).")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where results go (default: model_dir/eval).")
_NUM_PICTURE = flags.DEFINE_integer("num_picture", 8, "Images in the mask picture.")
_ARI_CONVENTION = flags.DEFINE_enum(
    "ari_convention", "sklearn", ["sklearn", "deepmind"],
    "Score of an image whose ARI is 0/0: sklearn = 1.0; deepmind = 1.0 only when both "
    "labellings are constant over all pixels, NaN otherwise (left out of the means).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    cli.require_at_least_one(_NUM_EXAMPLES, _BATCH_SIZE, _NUM_SLOTS, _NUM_ITERATIONS,
                             _NUM_PICTURE)
    if not tf.io.gfile.isdir(_MODEL_DIR.value):
        raise app.UsageError(f"--model_dir {_MODEL_DIR.value} does not exist")
    from keras_slots import data, evaluation, files
    from keras_slots.config import SET_PREDICTION
    from keras_slots.training import checkpoints

    model, config, step = checkpoints.restore_model(_MODEL_DIR.value, _CHECKPOINT.value)
    if config.task == SET_PREDICTION:
        return evaluate_set_prediction(model, config, step)
    try:
        dataset_name = data.folder.complete(_DATASET.value or config.train.dataset,
                                            config.model.resolution)
        info = data.catalog.get(dataset_name)
    except data.DataError as e:
        raise app.UsageError(str(e))
    data_dir = config.train.data_dir if _DATA_DIR.value is None else (_DATA_DIR.value or None)
    out_dir = _OUTPUT_DIR.value or os.path.join(_MODEL_DIR.value, "eval")
    tf.io.gfile.makedirs(out_dir)
    num_examples = _NUM_EXAMPLES.value
    if data.folder.is_spec(dataset_name):
        try:
            data_dir, num_examples = None, data.folder.check_split(info, _SPLIT.value,
                                                                   num_examples)
        except data.DataError as e:
            raise app.UsageError(str(e))
        if num_examples < _NUM_EXAMPLES.value:
            print(f"note: the folder has {num_examples} {_SPLIT.value} pictures, so "
                  f"{num_examples} are scored (--num_examples={_NUM_EXAMPLES.value})",
                  file=sys.stderr)
        inspect_folder(model, config, step, dataset_name, num_examples, out_dir)
        if info.num_entities == 0:
            return
    num_background = info.num_background
    dataset = data.get_dataset(dataset_name, _SPLIT.value, data_dir=data_dir,
                               seed=config.train.seed, num_examples=num_examples)
    results = evaluation.evaluate(
        model, dataset, batch_size=_BATCH_SIZE.value, seed=_SEED.value,
        num_slots=_NUM_SLOTS.value, num_iterations=_NUM_ITERATIONS.value,
        keep_images=_NUM_PICTURE.value, num_background=num_background,
        convention=_ARI_CONVENTION.value)
    table = evaluation.summary_table(results)
    table.update({"dataset": dataset_name, "split": _SPLIT.value, "step": step,
                  "preset": config.name, "num_slots": _NUM_SLOTS.value or config.model.num_slots,
                  "num_iterations": _NUM_ITERATIONS.value or config.model.num_iterations,
                  "seed": _SEED.value, "data_dir": data_dir,
                  "ari_convention": _ARI_CONVENTION.value,
                  "background_masks": (f"FG-ARI, mBO and mIoU ignore the {num_background} "
                                       "background masks" + (" (the *_bg0 variants ignore "
                                       "mask 0 only)" if num_background > 1 else ""))})
    files.write_atomic(os.path.join(out_dir, "metrics.json"),
                             json.dumps(table, indent=2, sort_keys=True))
    files.write_atomic(os.path.join(out_dir, "metrics.md"), evaluation.markdown(table))
    files.write_atomic(os.path.join(out_dir, "per_image.json"),
                             json.dumps(evaluation.per_image_rows(results), indent=1))
    # Mean of each metric as a TensorBoard scalar in <model_dir>/eval, next to train/.
    write_scalars_and_picture(step, {name: table[name]["mean"] for name in evaluation.METRICS},
                              results, out_dir)
    print(f"{config.name} at step {step} on {table['num_images']} {dataset_name} "
          f"{_SPLIT.value} images "
          f"(seed {_SEED.value}):")
    print(evaluation.markdown(table))
    print(f"wrote {out_dir}/metrics.json, metrics.md, per_image.json and masks.png "
          f"(columns: input, reconstruction, segmentation, one per slot)")


def inspect_folder(model, config, step, dataset_name, num_examples, out_dir):
    """The report of an image folder that needs no ground truth (see the module doc)."""
    from keras_slots import data, evaluation, files

    dataset = data.get_dataset(dataset_name, _SPLIT.value, num_examples=num_examples)
    results = evaluation.inspect(
        model, dataset, batch_size=_BATCH_SIZE.value, seed=_SEED.value,
        num_slots=_NUM_SLOTS.value, num_iterations=_NUM_ITERATIONS.value,
        keep_images=_NUM_PICTURE.value)
    table = evaluation.inspection_table(results)
    table.update({"dataset": dataset_name, "split": _SPLIT.value, "step": step,
                  "preset": config.name, "seed": _SEED.value})
    truth = data.catalog.get(dataset_name).num_entities > 0
    if not truth:
        table["fg_ari"] = ("not computed: FG-ARI needs ground-truth masks and the folder "
                           f"has no {data.folder.MASKS_FILE}")
    files.write_atomic(os.path.join(out_dir, "inspect.json"),
                       json.dumps(table, indent=2, sort_keys=True))
    files.write_atomic(os.path.join(out_dir, "inspect.md"),
                       evaluation.inspection_markdown(table))
    name = "per_image.json" if not truth else "per_image_inspect.json"
    files.write_atomic(os.path.join(out_dir, name),
                       json.dumps(evaluation.inspection_rows(results), indent=1))
    scalars = {"eval/recon_mse": table["recon_mse"]["mean"]}
    scalars.update({f"diag/{key}": table[key]["mean"]
                    for key in ("slot_usage_max", "mask_entropy", "slot_similarity")})
    write_scalars_and_picture(step, scalars, results, out_dir)
    print(f"{config.name} at step {step} on {table['num_images']} {_SPLIT.value} pictures of "
          f"{dataset_name} (seed {_SEED.value}):")
    print(evaluation.inspection_markdown(table))
    if not truth:
        print(f"FG-ARI needs ground-truth masks: the folder has no "
              f"{data.folder.MASKS_FILE}, so no FG-ARI, ARI, mBO or mIoU is reported.")
    print(f"wrote {out_dir}/inspect.json, inspect.md, {name} and masks.png (columns: "
          "input, reconstruction, segmentation, one per slot)")


def write_scalars_and_picture(step, scalars, results, out_dir):
    """Writes `scalars` (tag -> float) to <model_dir>/eval and the mask picture masks.png."""
    from keras_slots import visualize

    writer = tf.summary.create_file_writer(os.path.join(_MODEL_DIR.value, "eval"))
    with writer.as_default(step=step):
        for tag, value in scalars.items():
            tf.summary.scalar(tag, value)
    writer.close()
    picture = visualize.slot_grid(results["images"], results["outputs"],
                                  max_images=_NUM_PICTURE.value, scale=4)
    visualize.save_png(os.path.join(out_dir, "masks.png"), picture)


def evaluate_set_prediction(model, config, step):
    """AP table of a set-prediction run on held-out scenes (see set_prediction.sources)."""
    import numpy as np

    from keras_slots import files, visualize
    from keras_slots.set_prediction import drawing, evaluation, sources, targets

    data_dir = config.train.data_dir if _DATA_DIR.value is None else (_DATA_DIR.value or None)
    dataset = sources.get_dataset("test", data_dir, seed=config.train.seed,
                                  num_examples=_NUM_EXAMPLES.value,
                                  resolution=model.resolution)
    results = evaluation.predict(model, dataset, batch_size=_BATCH_SIZE.value,
                                 seed=_SEED.value, num_slots=_NUM_SLOTS.value,
                                 num_iterations=_NUM_ITERATIONS.value,
                                 keep_images=_NUM_PICTURE.value)
    table = evaluation.ap_table(results["pred"], results["target"])
    table.update({"source": sources.source_of(data_dir), "data_dir": data_dir, "step": step,
                  "preset": config.name, "seed": _SEED.value,
                  "num_slots": _NUM_SLOTS.value or config.model.num_slots,
                  "num_iterations": _NUM_ITERATIONS.value or config.model.num_iterations,
                  "paper_ap": {evaluation.threshold_name(t): v
                               for t, v in evaluation.PAPER_AP.items()}})
    out_dir = _OUTPUT_DIR.value or os.path.join(_MODEL_DIR.value, "eval")
    tf.io.gfile.makedirs(out_dir)
    files.write_atomic(os.path.join(out_dir, "metrics.json"),
                       json.dumps(table, indent=2, sort_keys=True))
    files.write_atomic(os.path.join(out_dir, "metrics.md"), evaluation.markdown(table))
    predictions = [{"pred": targets.decode_names(p), "target": targets.decode_names(t)}
                   for p, t in zip(results["pred"], results["target"])]
    files.write_atomic(os.path.join(out_dir, "predictions.json"),
                       json.dumps(predictions, indent=1))
    writer = tf.summary.create_file_writer(os.path.join(_MODEL_DIR.value, "eval"))
    with writer.as_default(step=step):
        for name, value in table["ap"].items():
            tf.summary.scalar(f"ap_{name}", value / 100.0)
    writer.close()
    aspect = drawing.frame_aspect(data_dir)
    pictures = [drawing.draw_predictions(image, pred, target, frame_aspect=aspect)
                for image, pred, target in zip(results["images"], results["pred"],
                                               results["target"])]
    width = max(p.shape[1] for p in pictures)
    pictures = [np.pad(p, [(0, 0), (0, width - p.shape[1]), (0, 0)], constant_values=255)
                for p in pictures]
    visualize.save_png(os.path.join(out_dir, "predictions.png"), np.concatenate(pictures))
    print(f"{config.name} at step {step} on {table['num_images']} held-out scenes "
          f"({table['num_objects']} objects, {table['source']}, seed {_SEED.value}):")
    print(evaluation.markdown(table))
    print(f"wrote {out_dir}/metrics.json, metrics.md, predictions.json and predictions.png")

if __name__ == "__main__":
    cli.run(main)
