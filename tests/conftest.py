"""Shared pytest setup: quiet TensorFlow and test this checkout's keras_slots.

`pip install -r requirements.txt` installs the checkout (editable), so scripts/*.py import
it. Tests put the checkout first on the path of this process and of every subprocess they
start (PYTHONPATH), so they test these files even where another copy is installed.
"""

import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
_paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
if ROOT not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in _paths if p])


SCRIPTS = os.path.join(ROOT, "scripts")
SCRIPT_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")

# A small float32 model on Tetrominoes that trains a step in well under a second on a CPU;
# subprocess tests pass the same config to scripts/train.py as flags (TINY_FLAGS).
TINY_OVERRIDES = {
    "model.encoder_channels": (8, 8), "model.decoder_channels": (8,),
    "model.decoder_strides": (1,), "model.slot_size": 16, "model.mlp_hidden_size": 16,
    "model.encoder_mlp_size": 16, "train.batch_size": 4, "train.log_every": 1,
    "train.image_every": 2, "train.checkpoint_every": 2, "train.precision": "float32",
    "train.warmup_steps": 2, "train.eval_examples": 4,
}
TINY_FLAGS = ["--preset=tetrominoes"] + [
    f"--set={key}={json.dumps(value)}" for key, value in TINY_OVERRIDES.items()
] + ["--image_every=1000", "--eval_examples=8"]


def tiny_config(**changes):
    """The Tetrominoes preset shrunk to TINY_OVERRIDES, with `changes` applied on top."""
    from keras_slots.config import get_preset

    return get_preset("tetrominoes").override(**{**TINY_OVERRIDES, **changes})


def run_script(name, *args, timeout=300, env=None, **kwargs):
    """Runs scripts/<name> (e.g. "train.py") with args; returns the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, name), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=env or SCRIPT_ENV, **kwargs)


_EXIT_STATUS = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


def pytest_unconfigure(config):
    """Ends the test process once pytest has reported, with pytest's exit status.

    In-process tests leave tf.data threads that run the built-in generators (Python code);
    such a thread cannot take the interpreter lock back once shutdown has begun, and the
    process hung after its last line ("N passed") in a clean-clone CI run. The programs end
    the same way (keras_slots.cli._exit_now).
    """
    if _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
