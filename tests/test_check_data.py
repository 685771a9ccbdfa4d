"""scripts/check_data.py: scans a whole file and names the first bad record."""

import os
import subprocess
import sys

import numpy as np
import pytest

from keras_slots.data import records
from keras_slots.data import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_check(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "check_data.py"), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "tetrominoes_train.tfrecords"
    generate = registry.get("tetrominoes").generate
    records.write_records(str(path), [generate(np.random.default_rng([0, 0, i]))
                                      for i in range(6)], "tetrominoes")
    return path


def test_good_file_reports_its_record_count(good_file):
    proc = run_check(f"--files={good_file}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"ok: {good_file}: 6 records in the tetrominoes layout" in proc.stdout


def test_cut_file_names_the_first_bad_record(good_file, tmp_path):
    cut = tmp_path / "tetrominoes_train.tfrecords"
    data = good_file.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    proc = run_check(f"--files={good_file},{cut}")
    assert proc.returncode == 1
    assert f"ok: {good_file}: 6 records" in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert lines[-1].startswith("error: DataError: tetrominoes_train.tfrecords record ")
    assert "truncated or corrupt GZIP data" in lines[-1]
    assert 0 < int(lines[-1].split(" record ")[1].split(":")[0]) < 6


def test_wrong_layout_and_unknown_names(good_file, tmp_path):
    proc = run_check(f"--files={good_file}", "--dataset=multi_dsprites_binarized")
    assert proc.returncode == 1
    assert "tetrominoes_train.tfrecords record 0: feature" in proc.stderr.strip().splitlines()[-1]
    other = tmp_path / "scenes.tfrecords"
    other.write_bytes(good_file.read_bytes())
    proc = run_check(f"--files={other}")
    assert proc.returncode == 2
    assert "cannot tell the dataset of" in proc.stderr.strip().splitlines()[-1]
