"""A bad flag gives one line and exit status 2, whether absl or the program rejects it."""

import os
import re
import subprocess
import sys

import pytest

from keras_slots import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What TensorFlow's C++ side prints at import, before any of our code runs.
TF_NOISE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages|To enable the following)")


@pytest.mark.parametrize("args, message", [
    (["--num_slots=abc"], "flag --num_slots=abc: invalid literal for int()"),  # absl: type
    (["--bogus=1"], "Unknown command line flag 'bogus'"),  # absl: unknown flag
    ([], "Flag --model_dir must have a value other than None"),  # absl: required flag
    (["--num_slots=0"], "model.num_slots must be positive, got 0"),  # ModelConfig: bound
    (["--learning_rate=0"], "train.learning_rate must be positive, got 0.0"),  # TrainConfig
])
def test_bad_flag_is_one_line_with_status_2(tmp_path, args, message):
    if args != []:
        args = [f"--model_dir={tmp_path}", *args]
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "train.py"), *args],
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line and not TF_NOISE.match(line)]
    assert proc.returncode == cli.USAGE_ERROR == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: bad flag: ") and message in lines[0]
    assert lines[0].endswith("(see --helpshort)")
