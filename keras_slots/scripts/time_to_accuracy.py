"""Trains a recipe for several seeds and records FG-ARI against wall time.

Each seed trains in `<out_dir>/seed_<N>` (rerunning resumes), logging FG-ARI of a fixed test
batch every `eval_every` steps, then is scored on the full built-in test split like
evaluate.py. Writes `<out_dir>/time_to_accuracy.json` (every curve, every final score, the
mean +- std over seeds) and a plot of FG-ARI against minutes.

Example:
    python scripts/time_to_accuracy.py --preset=tetrominoes_cpu --seeds=0,1,2,3,4 \\
        --out_dir=runs/tta --plot=docs/time_to_accuracy.png
"""

import io
import json
import os
import sys
import time

from absl import app, flags

from keras_slots import cli, config as config_lib, config_flags, files

_PRESET = flags.DEFINE_string("preset", "tetrominoes_cpu", "Recipe (a named config).")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2", "3", "4"], "Training seeds.")
_OUT_DIR = flags.DEFINE_string("out_dir", "runs/time_to_accuracy", "Where runs and JSON go.")
_PLOT = flags.DEFINE_string("plot", None, "PNG path of the plot (default: in out_dir).")
_TARGET = flags.DEFINE_float("target", 0.95, "FG-ARI that counts as reached.")
_TEST_EXAMPLES = flags.DEFINE_integer("test_examples", 320, "Test scenes of the final score.")
# Every config field but the seed (--seeds) is a flag of its own name (config_flags).
_FIELDS = config_flags.define(skip={"seed"})
flags.adopt_module_key_flags(config_flags)  # --help lists them as this program's.
_SET = flags.DEFINE_multi_string("set", [], "Config override section.field=value, e.g. "
                                 "--set=train.learning_rate=1e-3 (repeatable).")


def run_seed(config, model_dir, test_examples):
    """Trains one seed and scores it on the test split; a finished seed is not rerun.

    The result is kept in `<model_dir>/time_to_accuracy.json`, so rerunning the script with
    more seeds reuses the seeds already done (with the same config and test size).

    Returns:
        dict(seed, curve=[[minutes, step, fg_ari], ...], final_fg_ari, minutes): minutes of
        wall time from the start of training (graph building included) to the end of the
        final scoring.
    """
    from keras_slots import data, evaluation
    from keras_slots.training import checkpoints, loop

    done_path = os.path.join(model_dir, "time_to_accuracy.json")
    key = {"config": json.loads(config.to_json()), "test_examples": test_examples}
    if os.path.exists(done_path):
        with open(done_path) as f:
            done = json.load(f)
        if done["key"] == key:
            return done["result"]
    start = time.time()
    result = loop.train(config, model_dir)
    model, _, _ = checkpoints.restore_model(model_dir)
    dataset = data.get_dataset(config.train.dataset, "test", seed=config.train.seed,
                               num_examples=test_examples)
    background = data.DATASETS[config.train.dataset].num_background
    scores = evaluation.evaluate(model, dataset, batch_size=32, seed=0,
                                 num_background=background)["fg_ari"]
    curve = [[round((e["time"] - start) / 60, 3), e["step"], round(e["fg_ari"], 4)]
             for e in result["evals"]]
    result = {"seed": config.train.seed, "curve": curve,
              "final_fg_ari": float(scores.mean()),
              "final_fg_ari_image_std": float(scores.std()),
              "minutes": round((time.time() - start) / 60, 2)}
    files.write_atomic(done_path, json.dumps({"key": key, "result": result}))
    return result


def summarize(runs, target):
    """Mean +- std over seeds of the final FG-ARI, and how many seeds reached `target`."""
    import numpy as np

    finals = np.array([r["final_fg_ari"] for r in runs])
    return {"seeds": len(runs), "reached": int(np.sum(finals >= target)), "target": target,
            "fg_ari_mean": float(finals.mean()), "fg_ari_seed_std": float(finals.std()),
            "minutes_mean": float(np.mean([r["minutes"] for r in runs]))}


def plot(runs, target, title, path):
    """FG-ARI of the fixed test batch against minutes, one line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for run in runs:
        minutes = [0.0] + [p[0] for p in run["curve"]]
        values = [0.0] + [p[2] for p in run["curve"]]
        ax.plot(minutes, values, marker=".", label=f"seed {run['seed']}: "
                f"{100 * run['final_fg_ari']:.1f}% final")
    ax.axhline(target, color="gray", linestyle="--", linewidth=1, label=f"target {target}")
    ax.set(xlabel="wall time (minutes)", ylabel="FG-ARI (fixed test batch)", title=title,
           ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    files.write_atomic(path, buffer.getvalue())


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        preset = config_lib.get_preset(_PRESET.value)
        overrides = config_flags.changes(_FIELDS, preset.model, _SET.value)
        base = preset.override(**overrides)
        seeds = [int(s) for s in _SEEDS.value]
    except ValueError as e:
        raise app.UsageError(str(e))
    cli.require_at_least_one(_TEST_EXAMPLES)
    from keras_slots import precision

    os.makedirs(_OUT_DIR.value, exist_ok=True)
    dtype, reason = precision.resolve(base.train.precision)
    runs = []
    for seed in seeds:
        config = base.override(**{"train.seed": seed})
        print(f"seed {seed}: training {config.name}", file=sys.stderr)
        runs.append(run_seed(config, os.path.join(_OUT_DIR.value, f"seed_{seed}"),
                             _TEST_EXAMPLES.value))
        print(f"seed {seed}: FG-ARI {100 * runs[-1]['final_fg_ari']:.1f}% after "
              f"{runs[-1]['minutes']:.1f} min", file=sys.stderr)
    summary = summarize(runs, _TARGET.value)
    report = {"preset": _PRESET.value, "overrides": overrides,
              "config": json.loads(base.to_json()), "precision": dtype,
              "precision_reason": reason, "cpu": precision.device_name(), "summary": summary,
              "runs": runs}
    path = os.path.join(_OUT_DIR.value, "time_to_accuracy.json")
    files.write_atomic(path, json.dumps(report, indent=2))
    title = f"{_PRESET.value}, {dtype}, {precision.device_name()}"
    plot(runs, _TARGET.value, title, _PLOT.value or os.path.join(_OUT_DIR.value, "tta.png"))
    print(f"{summary['reached']}/{summary['seeds']} seeds reached FG-ARI {_TARGET.value}; "
          f"FG-ARI {100 * summary['fg_ari_mean']:.1f} +- {100 * summary['fg_ari_seed_std']:.1f}"
          f"% (mean +- std over seeds) in {summary['minutes_mean']:.1f} min per seed; "
          f"{path}", file=sys.stderr)


if __name__ == "__main__":
    cli.run(main)
