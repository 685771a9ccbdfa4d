"""keras_slots.load: shipped presets, export and run folders, both tasks; the README lines."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf

import keras_slots
from keras_slots import export
from keras_slots.training import checkpoints, loop
from tests.conftest import ROOT, run_script, tiny_config
from tests.set_prediction.test_scripts import TINY_FLAGS as SET_PREDICTION_FLAGS


def test_readme_python_lines_run_as_shown(monkeypatch):
    """The README's "From Python" block runs and prints the shapes its comment shows."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    block = re.search(r"### From Python.*?```python\n(.*?)```", readme, re.S).group(1)
    printed = []
    monkeypatch.chdir(ROOT)
    exec(compile(block, "README.md", "exec"), {"print": lambda *a: printed.append(a)})
    expected = re.search(r"print\(.*\)\s*#\s*(.*)", block).group(1)
    assert " ".join(str(a) for a in printed[-1]) == expected


def test_shipped_model_matches_its_serving_signature():
    model = keras_slots.load("tetrominoes")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 35, 35, 3), dtype=np.uint8)
    out = model.predict(images)
    served = tf.saved_model.load(os.path.join(ROOT, "saved_models", "tetrominoes"))
    expected = served.serving_default(images)
    np.testing.assert_allclose(out["masks"], expected["masks"].numpy()[..., 0], atol=1e-4)
    np.testing.assert_array_equal(out["segmentation"], expected["segmentation"].numpy())
    np.testing.assert_allclose(out["recon"], expected["recon"].numpy(), atol=1e-4)


def test_pictures_of_other_sizes_are_prepared_and_batches_do_not_mix():
    model = keras_slots.load(os.path.join(ROOT, "saved_models", "tetrominoes"))
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (35, 35, 3), dtype=np.uint8)
    big = rng.integers(0, 256, (70, 90, 4), dtype=np.uint8)  # RGBA, another size
    both = model.predict([small, big])
    assert both["image"].shape == (2, 35, 35, 3) and both["slots"].shape == (2, 4, 64)
    alone = model.predict([small])
    # Only float rounding differs with the batch (oneDNN sums in another order): ~3e-05.
    np.testing.assert_allclose(alone["masks"][0], both["masks"][0], atol=1e-4)
    notes = model.prepare([big])[1][0]
    assert any("alpha" in n for n in notes) and any("resized 90x70" in n for n in notes)


def test_run_folder_and_its_export_give_the_same_outputs(tmp_path):
    run = str(tmp_path / "run")
    loop.train(tiny_config(**{"train.num_steps": 2}), run)
    from_run = keras_slots.load(run)
    model, config, step = checkpoints.restore_model(run, compute_dtype="float32")
    export.export_saved_model(model, str(tmp_path / "export"),
                              keras_slots.api.run_metadata(config, step))
    from_export = keras_slots.load(str(tmp_path / "export"))
    images = np.random.default_rng(2).integers(0, 256, (2, 35, 35, 3), dtype=np.uint8)
    a, b = from_run.predict(images), from_export.predict(images)
    assert a.keys() == b.keys() >= {"recon", "recons", "masks", "segmentation", "slots"}
    for key in ("recon", "masks", "slots"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-4)
    assert from_run.metadata["step"] == 2 and from_export.metadata["preprocessing"]


def test_set_prediction_run_predicts_19_numbers_per_slot(tmp_path):
    # Trained in a subprocess: the built-in CLEVR renderer is a Python generator whose
    # tf.data thread would keep this process from exiting (see keras_slots.cli._exit_now).
    run = str(tmp_path / "run")
    train = run_script("train.py", *SET_PREDICTION_FLAGS, f"--model_dir={run}",
                       "--num_steps=1", "--eval_examples=0", timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    model = keras_slots.load(run)
    out = model.predict(np.zeros((2, 64, 48, 3), np.uint8))
    assert model.task == "set_prediction" and out["pred"].shape == (2, 10, 19)
    assert out["image"].shape == (2, 32, 32, 3)


def test_unknown_name_lists_the_shipped_models(tmp_path):
    with pytest.raises(ValueError, match=r"neither a shipped model \(.*tetrominoes"):
        keras_slots.load("no_such_model")
    with pytest.raises(ValueError, match="neither"):
        keras_slots.load(str(tmp_path))
