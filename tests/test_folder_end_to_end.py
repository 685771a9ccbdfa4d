"""Train, evaluate, export and predict on a folder of generated PNG pictures (no ground truth)."""

import json
import os

import numpy as np
from PIL import Image

from tests.test_scripts_end_to_end import TINY, run_script


def write_scenes(root, count, size=(24, 30), prefix="scene"):
    """Coloured rectangles on black, of a size that is not the model's (centre crop)."""
    rng = np.random.default_rng(0)
    os.makedirs(root)
    for i in range(count):
        picture = np.zeros((*size, 3), np.uint8)
        for _ in range(2):
            top, left = rng.integers(0, size[0] - 6), rng.integers(0, size[1] - 6)
            picture[top:top + 6, left:left + 6] = rng.integers(60, 256, 3)
        Image.fromarray(picture).save(os.path.join(root, f"{prefix}_{i:02d}.png"))


def test_train_evaluate_export_predict_on_a_folder(tmp_path):
    pictures, run = str(tmp_path / "pictures"), str(tmp_path / "run")
    write_scenes(pictures, 40)
    train = run_script("train.py", f"--model_dir={run}", "--num_steps=3",
                       f"--dataset=images:{pictures}", "--resolution=16", *TINY)
    assert train.returncode == 0, train.stderr[-2000:]
    assert "no masks.npz" in train.stderr and "done: step 3" in train.stderr
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    assert config["train"]["dataset"] == f"images:{pictures}?size=16x16&crop=center"
    assert config["model"]["resolution"] == [16, 16]

    evaluate = run_script("evaluate.py", f"--model_dir={run}", "--batch_size=4")
    assert evaluate.returncode == 0, evaluate.stderr[-2000:]
    assert "FG-ARI needs ground-truth masks" in evaluate.stdout
    out = os.path.join(run, "eval")
    with open(os.path.join(out, "inspect.json")) as f:
        table = json.load(f)
    assert table["fg_ari"].startswith("not computed") and table["num_images"] >= 1
    assert not os.path.exists(os.path.join(out, "metrics.json"))  # no fake scores
    with open(os.path.join(out, "per_image.json")) as f:
        rows = json.load(f)
    assert rows[0]["file"].startswith("scene_") and len(rows[0]["slot_usage"]) == 4
    assert abs(sum(rows[0]["slot_usage"]) - 1.0) < 1e-3 and rows[0]["recon_mse"] > 0
    assert os.path.exists(os.path.join(out, "masks.png"))

    export_dir = str(tmp_path / "export")
    export = run_script("export.py", f"--model_dir={run}", f"--export_dir={export_dir}")
    assert export.returncode == 0, export.stderr[-2000:]
    with open(os.path.join(export_dir, "keras_slots.json")) as f:
        preprocessing = json.load(f)["preprocessing"]
    assert preprocessing["fit"] == "center" and preprocessing["resize"] == [16, 16]
    predict = run_script("predict.py", f"--saved_model={export_dir}",
                         f"--images={os.path.join(pictures, 'scene_00.png')}",
                         f"--output_dir={tmp_path / 'predictions'}")
    assert predict.returncode == 0, predict.stderr[-2000:]
    assert "fitted 30x24 to 16x16 (center)" in predict.stderr


def test_five_pictures_train_inspect_and_export(tmp_path):
    """None of photo_00..04 falls in the default 10% test share: evaluate.py says so with the
    counts and the ways out, and both ways work (the training split; a larger share)."""
    pictures, run = str(tmp_path / "pictures"), str(tmp_path / "run")
    write_scenes(pictures, 5, prefix="photo")
    train = run_script("train.py", f"--model_dir={run}", "--num_steps=2",
                       f"--dataset=images:{pictures}", "--resolution=16", *TINY)
    assert train.returncode == 0, train.stderr[-2000:]
    empty = run_script("evaluate.py", f"--model_dir={run}", "--batch_size=4")
    assert empty.returncode == 2
    line = empty.stderr.strip().splitlines()[-1]
    assert "has no test picture: 5 of its 5 pictures are for training, 0 held out" in line
    assert "--split=train" in line and "test=0.4" in line
    on_train = run_script("evaluate.py", f"--model_dir={run}", "--batch_size=4",
                          "--split=train")
    assert on_train.returncode == 0, on_train.stderr[-2000:]
    assert "5 train pictures" in on_train.stdout
    assert "the folder has 5 train pictures, so 5 are scored" in on_train.stderr
    with open(os.path.join(run, "eval", "inspect.json")) as f:
        table = json.load(f)
    assert table["num_images"] == 5 and table["split"] == "train"
    held_out = run_script("evaluate.py", f"--model_dir={run}", "--batch_size=4",
                          f"--dataset=images:{pictures}?test=0.4")
    assert held_out.returncode == 0, held_out.stderr[-2000:]
    assert "2 test pictures" in held_out.stdout  # photo_00 and photo_04
    export_dir = str(tmp_path / "export")
    export = run_script("export.py", f"--model_dir={run}", f"--export_dir={export_dir}")
    assert export.returncode == 0, export.stderr[-2000:]
    assert os.path.exists(os.path.join(export_dir, "saved_model.pb"))
