"""The pretrained models committed in saved_models/ work straight after install."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_slots import data, metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# name -> (dataset, the bar). Tetrominoes scores 98.3% through its serving signature (97.6%
# with evaluate.py on its training checkpoint; saved_models/tetrominoes/README.md): the bar
# is the model's promise (>= 0.97); a bar just below the measured figure also catches a
# broken export. Each shipped model gets an entry here.
MODELS = {"tetrominoes": ("tetrominoes", 0.97)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_shipped_model_segments_the_builtin_test_split(name):
    folder = os.path.join(ROOT, "saved_models", name)
    shipped = tf.saved_model.load(folder)
    dataset_name, bar = MODELS[name]
    meta = json.loads(shipped.metadata().numpy())
    seed = meta["config"]["train"]["seed"]
    dataset = data.get_dataset(dataset_name, "test", seed=seed, num_examples=320).batch(64)
    scores = []
    for batch in dataset:
        images = tf.cast(tf.round((batch["image"] + 1.0) * 127.5), tf.uint8)  # [B, H, W, 3]
        seg = shipped.signatures["serving_default"](images=images)["segmentation"].numpy()
        true_ids = metrics.masks_to_ids(batch["mask"].numpy())  # [B, H*W]
        ari, _ = metrics.ari(true_ids, seg.reshape(len(seg), -1), ignore_background=True)
        scores.append(ari)
    fg_ari = float(np.mean(np.concatenate(scores)))
    stated = json.load(open(os.path.join(folder, "metrics.json")))["fg_ari"]["mean"]
    print(f"shipped {name} model FG-ARI {fg_ari:.4f}, stated {stated:.4f}")
    assert fg_ari >= bar, fg_ari
    assert abs(fg_ari - stated) < 0.02, (fg_ari, stated)  # the README number is this one


@pytest.mark.parametrize("name", sorted(MODELS))
def test_load_by_name_segments_the_sample_pictures(name):
    import keras_slots
    from PIL import Image

    samples = os.path.join(ROOT, "docs", "samples", name)
    pictures = [np.asarray(Image.open(os.path.join(samples, f)))
                for f in sorted(os.listdir(samples))]
    out = keras_slots.load(name).predict(pictures)
    assert out["segmentation"].shape == (len(pictures), *pictures[0].shape[:2])
    used = [len(np.unique(seg)) for seg in out["segmentation"]]
    assert min(used) >= 2, used  # objects and background are told apart


@pytest.mark.parametrize("name, min_slots", [("tetrominoes", 3)])
def test_predict_runs_on_the_sample_images_with_no_training(name, min_slots, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "predictions"
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "predict.py"),
         f"--saved_model={os.path.join(ROOT, 'saved_models', name)}",
         f"--images={os.path.join(ROOT, 'docs', 'samples', name)}",
         f"--output_dir={out}"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["images"]) == 4
    # Tetrominoes: three pieces and the background use at least three slots.
    assert all(image["slots_used"] >= min_slots for image in summary["images"]), summary
    assert (out / "masks.png").exists()
