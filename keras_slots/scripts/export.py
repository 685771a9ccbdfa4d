"""Exports a trained checkpoint as a SavedModel (default: saved_models/<run name>/).

Example:
    python scripts/export.py --model_dir=runs/tetrominoes
"""

import os

from absl import app, flags

from keras_slots import cli

_MODEL_DIR = flags.DEFINE_string("model_dir", None, "Run directory written by train.py.",
                                 required=True)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "Checkpoint prefix (default: latest).")
_EXPORT_DIR = flags.DEFINE_string(
    "export_dir", None, "Destination (default: saved_models/<model_dir name> in the current "
    "folder).")
_NUM_SLOTS = flags.DEFINE_integer("num_slots", None, "Slots of the export (default: trained).")
_NUM_ITERATIONS = flags.DEFINE_integer("num_iterations", None,
                                       "Iterations of the export (default: trained).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    cli.require_at_least_one(_NUM_SLOTS, _NUM_ITERATIONS)
    from keras_slots.config import SET_PREDICTION
    from keras_slots.api import run_metadata
    from keras_slots.export import export_saved_model
    from keras_slots.training import checkpoints

    # float32 graphs run at full speed on every CPU and GPU; bf16 is slow where emulated.
    model, config, step = checkpoints.restore_model(_MODEL_DIR.value, _CHECKPOINT.value,
                                                    "float32")
    name = os.path.basename(os.path.normpath(_MODEL_DIR.value))
    export_dir = _EXPORT_DIR.value or os.path.join("saved_models", name)
    metadata = run_metadata(config, step)
    if config.task == SET_PREDICTION:  # Per-slot properties decoded to names.
        from keras_slots.set_prediction import serving

        serving.export_set_predictor(model, export_dir, metadata, _NUM_SLOTS.value,
                                     _NUM_ITERATIONS.value)
        print(f"exported {config.name} (step {step}) to {export_dir}")
        return
    export_saved_model(model, export_dir, metadata, _NUM_SLOTS.value, _NUM_ITERATIONS.value)
    print(f"exported {config.name} (step {step}) to {export_dir}")


if __name__ == "__main__":
    cli.run(main)
