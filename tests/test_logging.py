"""The library reports through absl.logging (routable, silenceable); only the bar prints."""

import ast
import logging
import os

import numpy as np

from keras_slots.training import loop
from tests.conftest import tiny_config

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "keras_slots")
# Writers of program output, not library messages: the programs themselves (scripts/), their
# one-line errors, the progress bar, and the command-line benchmark of the CLEVR renderer.
ALLOWED = {"cli.py", os.path.join("training", "progress.py"), os.path.join("data", "clevr.py")}
PROGRAMS = "scripts"


def test_library_has_no_print_calls():
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, PACKAGE)
            if (not name.endswith(".py") or relative in ALLOWED
                    or relative.split(os.sep)[0] == PROGRAMS):
                continue
            with open(path) as f:
                tree = ast.parse(f.read())
            calls = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                     and isinstance(node.func, ast.Name) and node.func.id == "print"]
            assert not calls, f"print() in {relative} at lines {calls}"


def test_skipped_batch_is_an_absl_warning(tmp_path, caplog, capsys):
    config = tiny_config(**{"train.learning_rate": 1e38, "train.warmup_steps": 0,
                            "train.num_steps": 6})
    with caplog.at_level(logging.WARNING, logger="absl"):
        result = loop.train(config, str(tmp_path / "run"), skip_nonfinite=True)
    assert any(not np.isfinite(loss) for loss in result["losses"])
    warnings = [r for r in caplog.records if r.name == "absl" and r.levelno == logging.WARNING]
    assert any("batch skipped" in r.getMessage() for r in warnings)
    assert capsys.readouterr().out == ""  # Nothing on stdout; the bar is on stderr.
