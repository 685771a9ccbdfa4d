"""End-to-end test of scripts/make_dataset.py: write built-in Tetrominoes, read it back."""

import os
import subprocess
import sys

import numpy as np

from keras_slots import cli
from keras_slots.data import pipeline
from keras_slots.data import records

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "make_dataset.py")


def _run(*flags):
    return subprocess.run([sys.executable, SCRIPT, *flags], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, check=False)


def test_tetrominoes_file_holds_the_builtin_streams(tmp_path):
    result = _run("--dataset=tetrominoes", f"--out_dir={tmp_path}", "--num_examples=20",
                  "--train_size=15", "--seed=3")
    assert result.returncode == 0, result.stderr[-2000:]
    path = tmp_path / "tetrominoes_train.tfrecords"
    # The shared progress bar (keras_slots.training.progress) reached the end.
    assert "tetrominoes_train.tfrecords [" + "#" * 24 + "] 20/20 " in result.stderr
    assert " scenes/s eta " in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["tetrominoes_train.tfrecords",
                                            "tetrominoes_train.tfrecords.splits.json"]
    assert records.verify_file(str(path), "tetrominoes") == 20
    assert records.split_sizes("tetrominoes", tmp_path) == (15, 5)

    first_images = {}
    for split, num in (("train", 15), ("test", 5)):
        from_file = list(records.read_dataset("tetrominoes", split, tmp_path, train_size=15,
                                              test_size=5))
        builtin = list(pipeline.get_dataset("tetrominoes", split, seed=3, num_examples=num))
        assert len(from_file) == len(builtin) == num
        for got, want in zip(from_file, builtin):
            assert sorted(got) == sorted(want)
            for key in want:
                np.testing.assert_array_equal(got[key].numpy(), want[key].numpy(),
                                              err_msg=f"{split} {key}")
        first_images[split] = from_file[0]["image"].numpy()
    assert not np.array_equal(first_images["train"], first_images["test"])


def test_unknown_dataset_and_unwritable_dir_fail_with_one_line(tmp_path):
    result = _run("--dataset=no_such_data", f"--out_dir={tmp_path}")
    assert result.returncode == cli.USAGE_ERROR
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: bad flag: unknown dataset 'no_such_data'; built-in "
                           "datasets: clevr_with_masks, clevr6, ")

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = _run("--dataset=tetrominoes", f"--out_dir={blocker / 'sub'}",
                  "--num_examples=2", "--train_size=1")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: OSError: cannot create --out_dir")
    assert sorted(os.listdir(tmp_path)) == ["a_file"]


def test_num_examples_alone_writes_both_splits_the_reader_finds(tmp_path):
    result = _run("--dataset=tetrominoes", f"--out_dir={tmp_path}", "--num_examples=325")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "5 train, 320 test" in result.stdout
    assert records.split_sizes("tetrominoes", tmp_path) == (5, 320)
    assert len(list(records.read_dataset("tetrominoes", "train", tmp_path))) == 5
    test = list(records.read_dataset("tetrominoes", "test", tmp_path, num_examples=2))
    builtin = list(pipeline.get_dataset("tetrominoes", "test", num_examples=2))
    np.testing.assert_array_equal(test[1]["image"].numpy(), builtin[1]["image"].numpy())
    result = _run("--dataset=tetrominoes", f"--out_dir={tmp_path}", "--num_examples=300")
    assert result.returncode != 0
    assert "leaves no train records" in result.stderr.strip().splitlines()[-1]


def test_png_folder_holds_the_builtin_train_stream_and_its_masks(tmp_path):
    from keras_slots.data import catalog, folder, registry

    result = _run("--dataset=tetrominoes", f"--out_dir={tmp_path}", "--num_examples=20",
                  "--format=png", "--seed=3")
    assert result.returncode == 0, result.stderr[-2000:]
    root = tmp_path / "tetrominoes_png"
    assert sorted(os.listdir(root))[:2] == ["masks.npz", "scene_000000.png"]
    assert len(os.listdir(root)) == 21
    spec = folder.complete(f"images:{root}", (35, 35))
    info = catalog.get(spec)
    assert (info.num_entities, info.num_background) == (4, 1)
    scenes = registry.get("tetrominoes").generate_scenes(3, "train", range(20))
    elements = list(pipeline.get_dataset(spec, "train")) + list(pipeline.get_dataset(spec,
                                                                                   "test"))
    assert len(elements) == 20
    for element in elements:
        index = int(element["file"].numpy().decode()[len("scene_"):-len(".png")])
        np.testing.assert_array_equal(
            np.round((element["image"].numpy() + 1) * 127.5), scenes["image"][index])
        np.testing.assert_array_equal(element["mask"].numpy(), scenes["mask"][index])
