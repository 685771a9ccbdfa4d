"""Command-line flags for every config field, generated from the config dataclasses.

Each field of TrainConfig and of the model sections (ModelConfig, SetPredictionModelConfig)
is a flag of the same name: `--num_steps=300`, `--num_slots=5`,
`--encoder_channels=64,64,64,64`, `--shuffle` / `--noshuffle`, `--preprocessing='{...}'`
(JSON). `--set=section.field=VALUE` (VALUE as JSON) names a field by its qualified name and
is the same mechanism: both become one dict of changes, applied once to the preset, and
the named flags win. An unset flag keeps the preset's value.

Research variants (not the paper's model; VARIANTS) are listed apart in the help, each with
its measured effect.
"""

import dataclasses
import json

from absl import flags

from keras_slots import config as config_lib

_SECTIONS = (("train", config_lib.TrainConfig), ("model", config_lib.ModelConfig),
             ("model", config_lib.SetPredictionModelConfig))
_CHOICES = {"precision": config_lib.PRECISIONS, "slot_init": config_lib.SLOT_INITS,
            "slot_encoder": config_lib.SLOT_ENCODERS}
HELP = {
    "dataset": "Dataset name (default: the preset's), or images:PATH for a folder of "
               "PNG/JPEG pictures (options: images:PATH?crop=center|stretch&skip_bad=1"
               "&test=0.1).",
    "data_dir": "Folder of the published TFRecord files; unset: built-in data. Set "
                "prediction: a TFDS data_dir with clevr:3.1.0 prepared, or the CLEVR_v1.0 "
                "folder.",
    "num_steps": "Total training steps.",
    "batch_size": "Global batch size.",
    "learning_rate": "Peak learning rate.",
    "warmup_steps": "Linear warm-up steps.",
    "decay_rate": "Decay factor per decay_steps.",
    "decay_steps": "Steps per decay_rate factor.",
    "cooldown_steps": "Scale the rate linearly down to 0 over the last N steps before "
                      "--num_steps (0: no cool-down, the paper's schedule).",
    "clip_norm": "Clip the gradients to this global norm (0: no clipping, the paper's).",
    "num_slots": "Number of slots.",
    "num_iterations": "Slot Attention iterations.",
    "slot_encoder": "Slot Attention, or the Slot MLP baseline of the paper.",
    "precision": "Compute precision; auto: bfloat16 where a measured train step is faster "
                 "(cached per machine), else float32.",
    "eval_every": "Steps between FG-ARI evaluations of a fixed test batch.",
    "eval_examples": "Test scenes in that batch (0 turns evaluation off).",
    "seed": "Seed of weights, data order and slot noise.",
    "shuffle": "Shuffle file records anew each epoch (seeded by --seed and the epoch); "
               "--noshuffle reads them in file order.",
    "checkpoint_every": "Steps between checkpoints.",
    "keep_checkpoints": "Checkpoints kept (the oldest are deleted).",
    "log_every": "Steps between scalar summaries.",
    "image_every": "Steps between image summaries.",
    "steps_per_call": "Training steps per tf.function call (one host round trip); logging, "
                      "evaluation, image and checkpoint steps end a call.",
    "init_from": "Start from the weights of a trained model of the same weight shapes (a "
                 "run folder, an export folder or a .keras file), e.g. "
                 "saved_models/tetrominoes.",
    "preprocessing": "How pictures became inputs when not the dataset's recipe (JSON, as "
                     "exports record it); set by scripts/import_checkpoint.py.",
}
# Research variants: not the paper's model, none measured better on the CPU recipe
# (FG-ARI of built-in Tetrominoes, tetrominoes_cpu schedule, seed 0).
VARIANTS = {
    "decoder_position_scale": "Variant: decoder position grid scaled by this (paper: 1). "
                              "Measured 8 and 32: the blob phase ends ~500 steps sooner, the "
                              "same ~0.79 at step 2,000.",
    "decoder_fourier_bands": "Variant: sin/cos position features with this many octaves "
                             "in the decoder (paper: 0). Measured 4: the blob phase ends "
                             "~700 steps sooner, the same 0.86 at step 5,000.",
    "slot_init": "Variant: initial slots drawn from a shared Gaussian (gaussian, the "
                 "paper's) or learned per slot. Measured learned + --implicit_grad: the "
                 "lowest loss, the same plateau (0.80 at step 3,000).",
    "implicit_grad": "Variant: back-propagate through the last iteration only (paper: "
                     "all). Measured with learned slots: see --slot_init.",
}


def fields():
    """{field name: (type annotation, the section names holding it)} over all sections."""
    out = {}
    for section, cls in _SECTIONS:
        for field in dataclasses.fields(cls):
            kind, sections = out.get(field.name, (field.type, ()))
            if section not in sections:
                sections += (section,)
            out[field.name] = (kind, sections)
    return out


def define(flag_values=flags.FLAGS, skip=()):
    """Defines one flag per config field (default None: the preset's value).

    Args:
        flag_values: the absl FlagValues to define them in.
        skip: field names the program defines itself (e.g. train.py's --resolution).

    Returns:
        {field name: FlagHolder}.
    """
    holders = {}
    for name, (kind, sections) in fields().items():
        if name in skip:
            continue
        where = "/".join(f"{s}.{name}" for s in dict.fromkeys(sections))
        text = VARIANTS.get(name) or HELP.get(name) or f"Config field {where}."
        text += " (default: the preset's)"
        if name in _CHOICES:
            holders[name] = flags.DEFINE_enum(name, None, list(_CHOICES[name]), text,
                                              flag_values=flag_values)
        elif kind in (bool, "bool"):
            holders[name] = flags.DEFINE_bool(name, None, text, flag_values=flag_values)
        elif kind in (int, "int"):
            holders[name] = flags.DEFINE_integer(name, None, text, flag_values=flag_values)
        elif kind in (float, "float"):
            holders[name] = flags.DEFINE_float(name, None, text, flag_values=flag_values)
        elif kind in (tuple, "tuple"):
            holders[name] = flags.DEFINE_list(name, None, text + " Comma-separated ints.",
                                              flag_values=flag_values)
        else:  # str, or dict given as JSON
            holders[name] = flags.DEFINE_string(name, None, text, flag_values=flag_values)
    return holders


def changes(holders, model_config, set_items=()):
    """The config changes the flags ask for, qualified ("train.num_steps": 300, ...).

    Args:
        holders: `define`'s result (unset flags are left out).
        model_config: the preset's model section (decides which fields exist).
        set_items: --set values, "section.field=JSON value".

    Returns:
        dict of qualified field -> value, --set first, then the named flags over it.

    Raises:
        ValueError: for a --set item without "=", a field the run's model lacks, or a
            value that is not of the field's kind.
    """
    out = {}
    for item in set_items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set needs section.field=value, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    kinds = {name: kind for name, (kind, _) in fields().items()}
    parsed = {}
    for name, holder in holders.items():
        value = holder.value
        if value is None:
            continue
        kind = kinds[name]
        if kind in (tuple, "tuple"):
            try:
                value = tuple(int(v) for v in value)
            except ValueError:
                raise ValueError(f"--{name} takes comma-separated integers, got "
                                 f"{','.join(value)!r}") from None
        elif kind in (dict, "dict"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as e:
                raise ValueError(f"--{name} takes a JSON object: {e}") from None
        parsed[name] = value
    out.update(config_lib.qualified(model_config, parsed))
    return out
