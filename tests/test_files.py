"""Tests for keras_slots.files: atomic writes of files and folders."""

import os

import pytest

from keras_slots import files


def test_write_atomic_writes_text_and_bytes_and_leaves_no_temporary_file(tmp_path):
    files.write_atomic(tmp_path / "a.txt", "text")
    files.write_atomic(str(tmp_path / "b.bin"), b"\x00\xff")
    assert (tmp_path / "a.txt").read_text() == "text"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin"]


def test_concurrent_writers_of_one_file_use_different_temporary_names(tmp_path):
    path = tmp_path / "picture.png"
    with files.atomic_file(path) as first, files.atomic_file(path) as second:
        assert first != second
        assert os.path.dirname(first) == os.path.dirname(second) == str(tmp_path)
        with open(first, "w") as f:
            f.write("first")
        with open(second, "w") as f:
            f.write("second")
        assert not path.exists()  # Nothing appears before a writer finishes.
    assert path.read_text() == "first"  # The outer block finished last.
    assert os.listdir(tmp_path) == ["picture.png"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="cut"):
        with files.atomic_file(path) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("cut")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_atomic_dir_replaces_a_folder_whole_or_not_at_all(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with files.atomic_dir(target) as tmp:
            os.makedirs(tmp)
            raise RuntimeError("cut")
    assert os.listdir(target) == ["old.txt"] and os.listdir(tmp_path) == ["export"]
    with files.atomic_dir(target) as tmp:
        assert not os.path.exists(tmp) and os.path.dirname(tmp) == str(tmp_path)
        os.makedirs(tmp)
        (open(os.path.join(tmp, "new.txt"), "w")).write("new")
    assert os.listdir(target) == ["new.txt"] and os.listdir(tmp_path) == ["export"]
