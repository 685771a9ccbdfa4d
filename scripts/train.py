"""Trains a preset's task (object discovery or set prediction); rerunning the same command
resumes it.

Examples:
    python scripts/train.py --preset=tetrominoes_cpu --model_dir=runs/tetrominoes
    python scripts/train.py --preset=clevr_set_prediction_cpu --model_dir=runs/clevr_sp

A folder of your own pictures is a dataset too: --dataset=images:PATH (options after "?",
see keras_slots.data.folder), at the preset's resolution or at --resolution.
"""

import dataclasses
import sys

from absl import app, flags

from keras_slots import cli, config as config_lib

_PRESET = flags.DEFINE_string("preset", "tetrominoes_cpu",
                              f"Named config: {', '.join(sorted(config_lib.PRESETS))}.")
_MODEL_DIR = flags.DEFINE_string("model_dir", None, "Run directory (checkpoints, logs).",
                                 required=True)
_DATASET = flags.DEFINE_string(
    "dataset", None, "Dataset name (default: the preset's), or images:PATH for a folder of "
    "PNG/JPEG pictures (options: images:PATH?crop=center|stretch&skip_bad=1).")
_RESOLUTION = flags.DEFINE_string(
    "resolution", None, "Input size HxW (or N) for an image folder: the preset's "
    "architecture at that size (default: the preset's resolution).")
_DATA_DIR = flags.DEFINE_string(
    "data_dir", None, "Folder of the published TFRecord files; unset: built-in data. Set "
    "prediction: a TFDS data_dir with clevr:3.1.0 prepared, or the CLEVR_v1.0 folder.")
_NUM_STEPS = flags.DEFINE_integer("num_steps", None, "Total training steps.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "Global batch size.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", None, "Peak learning rate.")
_WARMUP_STEPS = flags.DEFINE_integer("warmup_steps", None, "Linear warm-up steps.")
_DECAY_RATE = flags.DEFINE_float("decay_rate", None, "Decay factor per decay_steps.")
_DECAY_STEPS = flags.DEFINE_integer("decay_steps", None, "Steps per decay_rate factor.")
_COOLDOWN_STEPS = flags.DEFINE_integer(
    "cooldown_steps", None, "Scale the rate linearly down to 0 over the last N steps before "
    "--num_steps (0: no cool-down, the paper's schedule).")
_NUM_SLOTS = flags.DEFINE_integer("num_slots", None, "Number of slots.")
_NUM_ITERATIONS = flags.DEFINE_integer("num_iterations", None, "Slot Attention iterations.")
_SLOT_ENCODER = flags.DEFINE_enum("slot_encoder", None, ["slot_attention", "slot_mlp"],
                                  "Slot Attention, or the Slot MLP baseline.")
_SLOT_INIT = flags.DEFINE_enum("slot_init", None, ["gaussian", "learned"],
                               "Initial slots: shared Gaussian (paper) or learned per slot.")
_IMPLICIT_GRAD = flags.DEFINE_bool("implicit_grad", None,
                                   "Back-propagate through the last iteration only.")
_PRECISION = flags.DEFINE_enum(
    "precision", None, ["auto", "float32", "bfloat16"],
    "Compute precision; auto: bfloat16 where the GPU/CPU computes it natively, else float32.")
_EVAL_EVERY = flags.DEFINE_integer("eval_every", None,
                                   "Steps between FG-ARI evaluations of a fixed test batch.")
_EVAL_EXAMPLES = flags.DEFINE_integer("eval_examples", None,
                                      "Test scenes in that batch (0 turns evaluation off).")
_SEED = flags.DEFINE_integer("seed", None, "Seed of weights, data order and slot noise.")
_SHUFFLE = flags.DEFINE_bool("shuffle", None, "Shuffle file records anew each epoch (seeded "
                             "by --seed and the epoch); --noshuffle reads them in file order.")
_CHECKPOINT_EVERY = flags.DEFINE_integer("checkpoint_every", None, "Steps between checkpoints.")
_LOG_EVERY = flags.DEFINE_integer("log_every", None, "Steps between scalar summaries.")
_IMAGE_EVERY = flags.DEFINE_integer("image_every", None, "Steps between image summaries.")
_STEPS_PER_CALL = flags.DEFINE_integer(
    "steps_per_call", None, "Training steps per tf.function call (one host round trip); "
    "logging, evaluation, image and checkpoint steps end a call.")
_SET = flags.DEFINE_multi_string("set", [], "Any config field, section.field=value (JSON "
                                 "value), e.g. --set=model.encoder_channels=[64,64]; the "
                                 "flags above win over it.")
_STRATEGY = flags.DEFINE_enum("strategy", "auto", ["auto", "default", "mirrored", "multi_worker"],
                              "tf.distribute strategy.")
_DETERMINISTIC = flags.DEFINE_bool("deterministic", False, "Turn on TF op determinism.")
_SKIP_NONFINITE = flags.DEFINE_bool("skip_nonfinite", False,
                                    "Skip batches with NaN/Inf loss instead of stopping.")
_ALLOW_CONFIG_CHANGE = flags.DEFINE_bool("allow_config_change", False,
                                         "Resume although the saved config differs.")

_OVERRIDES = {
    "train.dataset": _DATASET, "train.num_steps": _NUM_STEPS, "train.batch_size": _BATCH_SIZE,
    "train.learning_rate": _LEARNING_RATE, "train.warmup_steps": _WARMUP_STEPS,
    "train.decay_rate": _DECAY_RATE, "train.decay_steps": _DECAY_STEPS,
    "train.cooldown_steps": _COOLDOWN_STEPS,
    "train.precision": _PRECISION, "train.seed": _SEED,
    "train.checkpoint_every": _CHECKPOINT_EVERY, "train.log_every": _LOG_EVERY,
    "train.image_every": _IMAGE_EVERY, "train.eval_every": _EVAL_EVERY,
    "train.eval_examples": _EVAL_EXAMPLES, "model.num_slots": _NUM_SLOTS,
    "model.num_iterations": _NUM_ITERATIONS, "model.slot_encoder": _SLOT_ENCODER,
    "model.slot_init": _SLOT_INIT, "model.implicit_grad": _IMPLICIT_GRAD,
    "train.shuffle": _SHUFFLE, "train.steps_per_call": _STEPS_PER_CALL,
}


def make_config():
    """The preset with the flags that were set applied; values the config rejects (see its
    validation) raise UsageError."""
    changes = cli.parse_overrides(_SET.value)
    changes.update({key: flag.value for key, flag in _OVERRIDES.items()
                    if flag.value is not None})
    # Always recorded, so a resume cannot silently switch between built-in data and files.
    changes["train.data_dir"] = _DATA_DIR.value or None
    try:
        config = config_lib.get_preset(_PRESET.value).override(**changes)
    except ValueError as e:
        raise app.UsageError(str(e))
    return with_image_folder(config.override(**changes))


def with_image_folder(config):
    """For --dataset=images:PATH: the model at the folder's size and the full folder spec.

    The spec recorded in the config names the absolute folder, the model's size and the
    crop rule, so evaluate.py, visualize.py and export.py prepare pictures the same way.
    """
    from keras_slots import resolution
    from keras_slots.data import folder

    dataset = config.train.dataset
    if not folder.is_spec(dataset):
        if _RESOLUTION.value is not None:
            raise app.UsageError("--resolution applies to an image folder "
                                 "(--dataset=images:PATH); built-in datasets have a fixed size")
        return config
    try:
        spec = folder.parse(dataset)
        size = folder.parse_size(_RESOLUTION.value) if _RESOLUTION.value else spec.size
        if spec.size is not None and size != spec.size:
            raise ValueError(f"--resolution {size[0]}x{size[1]} differs from the spec's "
                             f"size {spec.size[0]}x{spec.size[1]}")
        model = config.model
        if size is not None and tuple(size) != tuple(model.resolution):
            model = resolution.at_resolution(model, size)
        dataset = folder.complete(dataset, model.resolution)
    except ValueError as e:
        raise app.UsageError(str(e))
    return dataclasses.replace(config, model=model,
                               train=dataclasses.replace(config.train, dataset=dataset))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    config = make_config()
    from keras_slots import data
    from keras_slots import precision
    from keras_slots.training import distribute, loop

    source = "files in " + _DATA_DIR.value if _DATA_DIR.value else "built-in generator"
    if config.task == config_lib.SET_PREDICTION:
        from keras_slots.set_prediction import sources

        if config.train.dataset != sources.DATASET:
            raise app.UsageError(f"set prediction trains on dataset {sources.DATASET!r}, "
                                 f"not {config.train.dataset!r}")
        source = sources.source_of(_DATA_DIR.value)
    else:
        try:
            info = data.catalog.get(config.train.dataset)
        except data.DataError as e:
            raise app.UsageError(str(e))
        if data.folder.is_spec(info.name):
            source = f"{info.train_size} train and {info.test_size} test pictures"
            if info.num_entities == 0 and config.train.eval_examples > 0:
                print("note: no masks.npz in the folder, so no FG-ARI while training "
                      "(eval_examples set to 0)", file=sys.stderr)
                config = config.override(**{"train.eval_examples": 0})
    strategy = distribute.make_strategy(_STRATEGY.value)
    dtype, reason = precision.resolve(config.train.precision)
    print(f"training {config.name} ({config.task}) on {config.train.dataset} ({source}) "
          f"with {strategy.num_replicas_in_sync} replica(s) into {_MODEL_DIR.value}",
          file=sys.stderr)
    print(f"precision: {dtype} ({reason})", file=sys.stderr)
    result = loop.train(config, _MODEL_DIR.value, strategy=strategy,
                        data_dir=config.train.data_dir,
                        allow_config_change=_ALLOW_CONFIG_CHANGE.value,
                        skip_nonfinite=_SKIP_NONFINITE.value,
                        deterministic=_DETERMINISTIC.value)
    print(f"done: step {result['step']}, loss {result['loss']:.5f}", file=sys.stderr)


if __name__ == "__main__":
    cli.run(main)
