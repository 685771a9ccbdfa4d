"""The scripts run for real: train, resume, evaluate, visualize, export, benchmark, errors."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import TINY_FLAGS, run_script

TINY = TINY_FLAGS + ["--checkpoint_every=2", "--log_every=2", "--image_every=2"]


def evaluate_into(model_dir, out_dir, num_examples, batch_size):
    """Runs evaluate.py and returns (its metrics.json, its stdout)."""
    proc = run_script("evaluate.py", f"--model_dir={model_dir}",
                      f"--num_examples={num_examples}", f"--batch_size={batch_size}",
                      f"--output_dir={out_dir}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(os.path.join(out_dir, "metrics.json")) as f:
        return json.load(f), proc.stdout


def last_line(proc):
    return proc.stderr.strip().splitlines()[-1]


def test_train_resume_evaluate(tmp_path):
    model_dir = str(tmp_path / "run")
    first = run_script("train.py", f"--model_dir={model_dir}", "--num_steps=4", *TINY)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "precision: float32 (float32 requested)" in first.stderr  # the start-up line
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-4")
    assert os.path.exists(os.path.join(model_dir, "config.json"))

    # Every step on the progress bar: a run that started over would print 1/6.
    second = run_script("train.py", f"--model_dir={model_dir}", "--num_steps=6", *TINY,
                        "--log_every=1")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "5/6" in second.stderr and "6/6" in second.stderr
    assert "1/6" not in second.stderr and "4/6" not in second.stderr  # resumed at step 4
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-6")
    events = os.listdir(os.path.join(model_dir, "train"))
    assert events and all(name.startswith("events.out.tfevents") for name in events)

    out_dir = str(tmp_path / "eval")
    table, printed = evaluate_into(model_dir, out_dir, num_examples=8, batch_size=4)
    assert table["step"] == 6 and table["num_images"] == 8
    assert -1.0 <= table["fg_ari"]["mean"] <= 1.0 and table["fg_ari"]["n"] == 8
    assert "| FG-ARI |" in printed
    assert os.path.getsize(os.path.join(out_dir, "masks.png")) > 1000
    from keras_slots import visualize

    scalars = visualize.read_scalars(os.path.join(model_dir, "eval"))  # TensorBoard scalars.
    assert sorted(scalars) == ["ari", "fg_ari", "mbo", "miou"]
    assert list(scalars["fg_ari"][0]) == [6]
    np.testing.assert_allclose(scalars["fg_ari"][1], [table["fg_ari"]["mean"]], rtol=1e-6)

    viz_dir = tmp_path / "viz"
    drawn = run_script("visualize.py", f"--model_dir={model_dir}", "--num_images=2",
                       f"--output_dir={viz_dir}")
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert sorted(os.listdir(viz_dir)) == ["image_0.png", "image_1.png", "training_curves.png"]

    export_dir = str(tmp_path / "export")
    exported = run_script("export.py", f"--model_dir={model_dir}", f"--export_dir={export_dir}")
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert os.path.exists(os.path.join(export_dir, "saved_model.pb"))
    assert os.path.exists(os.path.join(export_dir, "model.keras"))
    with open(os.path.join(export_dir, "keras_slots.json")) as f:
        metadata = json.load(f)
    assert metadata["step"] == 6
    assert metadata["preprocessing"] == {"source_size": [35, 35], "crop": None,
                                         "resize": [35, 35], "resize_method": "bilinear",
                                         "channels": 3}

    served = tmp_path / "viz_saved"
    drawn = run_script("visualize.py", f"--saved_model={export_dir}", "--num_images=2",
                       f"--output_dir={served}")
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert sorted(os.listdir(served)) == ["image_0.png", "image_1.png"]

    wider = str(tmp_path / "export_6_slots")
    exported = run_script("export.py", f"--model_dir={model_dir}", f"--export_dir={wider}",
                          "--num_slots=6", "--num_iterations=5")
    assert exported.returncode == 0, exported.stderr[-2000:]
    loaded = tf.saved_model.load(wider)
    assert json.loads(loaded.metadata().numpy())["num_slots"] == 6
    out = loaded.signatures["serving_default"](images=tf.zeros([2, 35, 35, 3], tf.uint8))
    assert out["masks"].shape == (2, 6, 35, 35, 1)
    assert out["attn_iterations"].shape == (2, 5, 6, 35 * 35)


def test_resume_with_a_changed_config_needs_allow_config_change(tmp_path):
    model_dir = str(tmp_path / "run")
    first = run_script("train.py", f"--model_dir={model_dir}", "--num_steps=2", *TINY)
    assert first.returncode == 0, first.stderr[-2000:]
    changed = ["--num_steps=3", "--learning_rate=0.001", *TINY]
    refused = run_script("train.py", f"--model_dir={model_dir}", *changed)
    assert refused.returncode == 1 and "train.learning_rate" in last_line(refused)
    allowed = run_script("train.py", f"--model_dir={model_dir}", *changed,
                         "--allow_config_change")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-3")
    with open(os.path.join(model_dir, "config.json")) as f:
        assert json.load(f)["train"]["learning_rate"] == 0.001


def test_benchmark_prints_bare_and_loop_step_rates(tmp_path):
    proc = run_script("benchmark.py", "--presets=tetrominoes", "--batch_size=2", "--steps=2",
                      "--steps_per_call=2", "--precisions=float32", "--read_images=4")
    assert proc.returncode == 0, proc.stderr[-2000:]
    header, _, row = proc.stdout.strip().splitlines()[-3:]
    assert "bare f32" in header and "loop f32 x1" in header and "loop f32 x2" in header
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "tetrominoes" and all(float(c) > 0 for c in cells[1:])


def test_show_datasets_draws_one_picture_per_dataset(tmp_path):
    proc = run_script("show_datasets.py", f"--output_dir={tmp_path}",
                      "--datasets=tetrominoes,multi_dsprites_colored_on_grayscale",
                      "--num_scenes=2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(os.listdir(tmp_path)) == ["multi_dsprites_colored_on_grayscale.png",
                                            "tetrominoes.png"]
    bad = run_script("show_datasets.py", f"--output_dir={tmp_path}", "--datasets=cifar")
    assert bad.returncode == 2 and "no built-in generator for ['cifar']" in bad.stderr



@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset=nope"], "unknown preset 'nope'"),
        (["--num_slots=0"], "model.num_slots must be positive, got 0"),
        (["--dataset=cifar"], "unknown dataset 'cifar'"),
        (["--batch_size=-2"], "train.batch_size must be positive, got -2"),
        (["--set=model.slot_init=uniform"], "model.slot_init must be one of"),
        (["--set=model.decoder_strides=[2,2,2]"], "the decoder produces (280, 280) images"),
        (["--set=train.nope=1"], "unknown config field 'train.nope'"),
        (["--data_dir=/nonexistent"],
         "expected file /nonexistent/tetrominoes_train.tfrecords does not exist"),
        (["--strategy=multi_worker"], "strategy 'multi_worker' needs TF_CONFIG"),
    ],
)
def test_bad_train_flags_give_one_line(tmp_path, args, message):
    proc = run_script("train.py", f"--model_dir={tmp_path}", *args)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    if "must be" in message or "decoder produces" in message or "config field" in message:
        assert proc.returncode == 2  # config validation is a usage error


def test_evaluate_without_checkpoint_gives_one_line(tmp_path):
    proc = run_script("evaluate.py", f"--model_dir={tmp_path}")
    assert proc.returncode == 1
    assert last_line(proc).startswith("error: RunDirError: no config.json in")
    assert "Traceback" not in proc.stderr


def test_readme_data_path_make_dataset_train_evaluate(tmp_path):
    """make_dataset --num_examples -> train --data_dir -> evaluate: both splits are found,
    the data folder is part of the saved config, per-image scores are written, and a file
    shorter than its split is a one-line error."""
    data_dir = str(tmp_path / "data")
    made = run_script("make_dataset.py", "--dataset=tetrominoes", f"--out_dir={data_dir}",
                      "--num_examples=330")
    assert made.returncode == 0, made.stderr[-2000:]
    model_dir = str(tmp_path / "run")
    trained = run_script("train.py", f"--model_dir={model_dir}", f"--data_dir={data_dir}",
                         "--num_steps=3", *TINY)  # 12 images: past the 10 train records
    assert trained.returncode == 0, trained.stderr[-2000:]
    with open(os.path.join(model_dir, "config.json")) as f:
        assert json.load(f)["train"]["data_dir"] == data_dir
    switched = run_script("train.py", f"--model_dir={model_dir}", "--num_steps=4", *TINY)
    assert switched.returncode != 0 and "train.data_dir" in last_line(switched)

    out_dir = str(tmp_path / "eval")
    table, _ = evaluate_into(model_dir, out_dir, num_examples=6, batch_size=3)
    assert table["data_dir"] == data_dir and "over test images" in table["spread"]
    with open(os.path.join(out_dir, "per_image.json")) as f:
        rows = json.load(f)
    assert [row["index"] for row in rows] == list(range(6))
    assert abs(sum(row["fg_ari"] for row in rows) / 6 - table["fg_ari"]["mean"]) < 1e-9

    os.remove(os.path.join(data_dir, "tetrominoes_train.tfrecords.splits.json"))
    short = run_script("train.py", f"--model_dir={tmp_path / 'short'}",
                       f"--data_dir={data_dir}", "--num_steps=2", *TINY)
    assert short.returncode == 1 and "Traceback" not in short.stderr
    assert "expected to contain 60000 elements" in last_line(short)
    assert "make_dataset.py" in last_line(short)
