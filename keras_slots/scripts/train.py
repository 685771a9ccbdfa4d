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

from keras_slots import cli, config as config_lib, config_flags

_PRESET = flags.DEFINE_string("preset", "tetrominoes_cpu",
                              f"Named config: {', '.join(sorted(config_lib.PRESETS))}.")
_MODEL_DIR = flags.DEFINE_string("model_dir", None, "Run directory (checkpoints, logs).",
                                 required=True)
_RESOLUTION = flags.DEFINE_string(
    "resolution", None, "Input size HxW (or N) for an image folder: the preset's "
    "architecture at that size (default: the preset's resolution).")
# Every other config field is a flag of its own name (keras_slots.config_flags).
_FIELDS = config_flags.define(skip={"resolution"})
flags.adopt_module_key_flags(config_flags)  # --help lists them as this program's.
_SET = flags.DEFINE_multi_string("set", [], "Any config field, section.field=value (JSON "
                                 "value), e.g. --set=model.encoder_channels=[64,64]; the "
                                 "named flags win over it.")
_STRATEGY = flags.DEFINE_enum("strategy", "auto", ["auto", "default", "mirrored", "multi_worker"],
                              "tf.distribute strategy.")
_DETERMINISTIC = flags.DEFINE_bool("deterministic", False, "Turn on TF op determinism.")
_SKIP_NONFINITE = flags.DEFINE_bool("skip_nonfinite", False,
                                    "Skip batches with NaN/Inf loss instead of stopping.")
_ALLOW_CONFIG_CHANGE = flags.DEFINE_bool("allow_config_change", False,
                                         "Resume although the saved config differs.")


def make_config():
    """The preset with the flags that were set applied once; values the config rejects (see
    its validation) raise UsageError."""
    try:
        preset = config_lib.get_preset(_PRESET.value)
        changes = config_flags.changes(_FIELDS, preset.model, _SET.value)
        # Always recorded, so a resume cannot silently switch between built-in data and files.
        changes["train.data_dir"] = _FIELDS["data_dir"].value or None
        return with_image_folder(preset.override(**changes))
    except ValueError as e:
        raise app.UsageError(str(e))


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

    data_dir = config.train.data_dir
    source = "files in " + data_dir if data_dir else "built-in generator"
    if config.task == config_lib.SET_PREDICTION:
        from keras_slots.set_prediction import sources

        if config.train.dataset != sources.DATASET:
            raise app.UsageError(f"set prediction trains on dataset {sources.DATASET!r}, "
                                 f"not {config.train.dataset!r}")
        source = sources.source_of(data_dir)
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
            elif info.test_size < config.train.eval_examples:
                print(f"note: the folder holds out {info.test_size} test pictures, so the "
                      f"FG-ARI checks use {info.test_size or 'none'} (eval_examples "
                      f"{config.train.eval_examples})", file=sys.stderr)
                config = config.override(**{"train.eval_examples": info.test_size})
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
