"""scripts/time_to_accuracy.py: seeds, curves, final scores, summary and plot."""

import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "time_to_accuracy.py")
TINY = ["--preset=tetrominoes", "--set=model.encoder_channels=[8,8]",
        "--set=model.decoder_channels=[8]", "--set=model.decoder_strides=[1]",
        "--set=model.slot_size=16", "--set=model.mlp_hidden_size=16",
        "--set=model.encoder_mlp_size=16", "--set=train.batch_size=4",
        "--set=train.num_steps=4", "--set=train.warmup_steps=2", "--set=train.eval_every=2",
        "--set=train.eval_examples=4", "--set=train.precision=float32",
        "--set=train.checkpoint_every=4", "--test_examples=8"]


def run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_two_seeds_write_curves_summary_and_plot(tmp_path):
    out = tmp_path / "tta"
    proc = run(*TINY, "--seeds=0,1", f"--out_dir={out}", "--target=0.0")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "time_to_accuracy.json").read_text())
    assert [r["seed"] for r in report["runs"]] == [0, 1]
    for run_ in report["runs"]:
        assert [p[1] for p in run_["curve"]] == [2, 4]  # [minutes, step, fg_ari]
        minutes = [p[0] for p in run_["curve"]]
        assert 0 < minutes[0] <= minutes[1] <= run_["minutes"]
        assert -1 <= run_["final_fg_ari"] <= 1
    finals = [r["final_fg_ari"] for r in report["runs"]]
    summary = report["summary"]
    assert summary["reached"] == sum(f >= 0.0 for f in finals)
    np.testing.assert_allclose(summary["fg_ari_mean"], np.mean(finals))
    np.testing.assert_allclose(summary["fg_ari_seed_std"], np.std(finals))
    assert report["precision"] == "float32" and report["config"]["model"]["slot_size"] == 16
    assert (out / "tta.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2/2 seeds reached" in proc.stderr
    # Rerun with one more seed: seeds 0 and 1 are reused (same curves), seed 2 trains.
    again = run(*TINY, "--seeds=0,1,2", f"--out_dir={out}", "--target=0.0")
    assert again.returncode == 0, again.stderr[-2000:]
    rerun = json.loads((out / "time_to_accuracy.json").read_text())
    assert rerun["runs"][:2] == report["runs"] and rerun["runs"][2]["seed"] == 2


def test_bad_override_is_one_line_and_exit_2(tmp_path):
    proc = run("--set=train.nope=1", f"--out_dir={tmp_path}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: bad flag: unknown config")
