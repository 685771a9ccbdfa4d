"""Every config field is a flag of its own name, parsed by its kind and applied once."""

import dataclasses
import subprocess
import sys

from absl import flags
import pytest

from keras_slots import config as config_lib, config_flags
from tests.conftest import ROOT, SCRIPT_ENV

SECTIONS = (config_lib.TrainConfig, config_lib.ModelConfig,
            config_lib.SetPredictionModelConfig)


def fresh(argv=(), skip=()):
    values = flags.FlagValues()
    holders = config_flags.define(values, skip=skip)
    values(["prog", *argv])
    return holders


def test_every_field_of_every_section_has_a_flag():
    holders = fresh()
    for cls in SECTIONS:
        for field in dataclasses.fields(cls):
            assert field.name in holders, f"{cls.__name__}.{field.name} has no flag"


@pytest.mark.parametrize("script, skip", [("train.py", {"resolution"}),
                                          ("time_to_accuracy.py", {"seed"})])
def test_the_programs_define_every_field(script, skip):
    proc = subprocess.run([sys.executable, f"{ROOT}/scripts/{script}", "--helpfull"],
                          capture_output=True, text=True, timeout=120, env=SCRIPT_ENV)
    text = proc.stdout + proc.stderr
    for cls in SECTIONS:
        for field in dataclasses.fields(cls):
            if field.name not in skip:
                assert f"--{field.name}" in text or f"--[no]{field.name}" in text, field.name


def test_flags_parse_by_kind_and_win_over_set():
    holders = fresh(["--num_steps=300", "--encoder_channels=8,8", "--noshuffle",
                     "--precision=float32", '--preprocessing={"crop": null}',
                     "--learning_rate=1e-3"])
    preset = config_lib.get_preset("tetrominoes_cpu")
    changes = config_flags.changes(holders, preset.model,
                                   ["train.learning_rate=5e-4", "model.num_slots=5"])
    assert changes == {"train.num_steps": 300, "model.encoder_channels": (8, 8),
                       "train.shuffle": False, "train.precision": "float32",
                       "train.preprocessing": {"crop": None}, "train.learning_rate": 1e-3,
                       "model.num_slots": 5}
    config = preset.override(**changes)
    assert config.model.encoder_channels == (8, 8) and config.train.num_steps == 300


def test_a_field_of_the_other_task_or_a_bad_value_is_refused():
    objects = config_lib.get_preset("tetrominoes").model
    with pytest.raises(ValueError, match="'encoder_strides' is not a config field of this"):
        config_flags.changes(fresh(["--encoder_strides=1,2"]), objects)
    with pytest.raises(ValueError, match="comma-separated integers"):
        config_flags.changes(fresh(["--decoder_channels=8,x"]), objects)
    with pytest.raises(ValueError, match="--set needs section.field=value"):
        config_flags.changes(fresh(), objects, ["num_steps"])
    with pytest.raises(flags.IllegalFlagValueError):
        fresh(["--slot_init=random"])


def test_variants_are_labelled_with_their_measured_effect():
    values = flags.FlagValues()
    config_flags.define(values)
    for name in config_flags.VARIANTS:
        assert "Variant:" in values[name].help and "Measured" in values[name].help
