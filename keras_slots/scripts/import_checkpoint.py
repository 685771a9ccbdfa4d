"""Imports a checkpoint the paper's authors released as a keras_slots run folder.

The run folder (config.json + a checkpoint of ours) works with train.py, evaluate.py,
export.py, predict.py and visualize.py like a run of ours. The task and sizes come from the
checkpoint; the step, the weights and Adam's state are kept.

Example:
    gsutil -m cp -r gs://gresearch/slot-attention/object-discovery .
    python scripts/import_checkpoint.py --checkpoint=object-discovery \
        --model_dir=runs/paper_clevr
"""

from absl import app, flags

from keras_slots import cli

_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "Released checkpoint: a prefix such as object-discovery/ckpt-500, or "
    "its folder (the latest checkpoint is read); local or gs://.", required=True)
_MODEL_DIR = flags.DEFINE_string("model_dir", None, "Run folder to write (new or empty).",
                                 required=True)
_NUM_SLOTS = flags.DEFINE_integer("num_slots", None, "Slots of the run (default: the "
                                  "paper's, 7 for object discovery, 10 for set prediction).")
_RESOLUTION = flags.DEFINE_string("resolution", None, "Input size HxW or N (default: the "
                                  "paper's 128x128, the only size the released model saw).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    cli.require_at_least_one(_NUM_SLOTS)
    from keras_slots import released
    from keras_slots.data import folder

    try:
        size = folder.parse_size(_RESOLUTION.value) if _RESOLUTION.value else None
    except ValueError as e:
        raise app.UsageError(f"--resolution: {e}")
    result = released.import_checkpoint(_CHECKPOINT.value, _MODEL_DIR.value,
                                        num_slots=_NUM_SLOTS.value, resolution=size)
    model = result["config"].model
    optimizer = "with" if result["optimizer"] else "without (none in the checkpoint)"
    print(f"imported {result['checkpoint']} ({result['task']}, step {result['step']}, "
          f"{model.num_slots} slots, {model.resolution[0]}x{model.resolution[1]}) {optimizer} "
          f"Adam state into {result['model_dir']}")


if __name__ == "__main__":
    cli.run(main)
