"""docs/quickstart.ipynb is stored without outputs and runs end to end (fewer steps here)."""

import json
import os

import matplotlib

from tests.conftest import ROOT

NOTEBOOK = os.path.join(ROOT, "docs", "quickstart.ipynb")


def test_quickstart_notebook_has_no_outputs_and_runs(tmp_path, monkeypatch):
    with open(NOTEBOOK) as f:
        notebook = json.load(f)
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    source = "\n".join("".join(cell["source"]) for cell in code)
    # The same cells, shorter: 30 steps instead of a few hundred, the run in tmp_path.
    assert "NUM_STEPS = 300" in source and 'RUN_DIR = "runs/quickstart"' in source
    source = source.replace("NUM_STEPS = 300", "NUM_STEPS = 30").replace(
        'RUN_DIR = "runs/quickstart"', f"RUN_DIR = {str(tmp_path / 'run')!r}")
    matplotlib.use("Agg")
    monkeypatch.chdir(os.path.dirname(NOTEBOOK))  # Jupyter runs a notebook in its folder.
    scope = {}
    exec(compile(source, NOTEBOOK, "exec"), scope)
    assert scope["out"]["segmentation"].shape == (4, 35, 35)
    assert 0.0 <= scope["table"]["fg_ari"]["mean"] <= 1.0
    assert int(scope["trained"].metadata["step"]) == 30
