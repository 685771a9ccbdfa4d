"""keras_slots.data.folder: the images:PATH spec, the hash split, conversion, resumption."""

import os

import numpy as np
from PIL import Image
import pytest

from keras_slots import images, resolution
from keras_slots.config import get_preset
from keras_slots.data import DataError, folder, get_dataset, get_train_stream, catalog


def write_pictures(root, count, size=(12, 16), prefix="p"):
    rng = np.random.default_rng(count)
    os.makedirs(root, exist_ok=True)
    for i in range(count):
        picture = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(picture).save(os.path.join(root, f"{prefix}{i:03d}.png"))


def spec_of(root, size=(8, 8), extra=""):
    return folder.complete(f"images:{root}{extra}", size)


def test_spec_round_trip_and_errors(tmp_path):
    spec = folder.parse("images:/data/x?size=32x48&crop=stretch&skip_bad=1")
    assert spec == folder.FolderSpec("/data/x", (32, 48), "stretch", True)
    assert folder.parse(str(spec)) == spec
    assert folder.complete("tetrominoes", (35, 35)) == "tetrominoes"
    for bad, message in [("images:", "names no folder"), ("images:x?zoom=2", "unknown option"),
                         ("images:x?crop=pad", "unknown crop rule"),
                         ("images:x?size=0x3", "bad size")]:
        with pytest.raises(DataError, match=message):
            folder.parse(bad)
    with pytest.raises(DataError, match="asks for size 9x9 but the model takes 8x8"):
        folder.complete("images:x?size=9", (8, 8))


def test_test_share_option(tmp_path):
    spec = folder.parse("images:/data/x?size=8x8&test=0.4")
    assert spec.test == 0.4 and folder.parse(str(spec)) == spec
    assert "test=" not in str(folder.parse("images:/data/x?test=0.1"))  # the default
    for bad in ("1", "-0.1", "half"):
        with pytest.raises(DataError, match=r"test must be a share in \[0, 1\)"):
            folder.parse(f"images:x?test={bad}")
    root = str(tmp_path / "pics")
    write_pictures(root, 40)
    default, more = folder.scan(spec_of(root)), folder.scan(spec_of(root, extra="?test=0.5"))
    assert set(default.test) < set(more.test) and len(more.test) > 2 * len(default.test)
    assert folder.scan(spec_of(root, extra="?test=0")).test == ()
    info = catalog.get(spec_of(root, extra="?test=0"))
    with pytest.raises(DataError, match="has no test picture: 40 of its 40 pictures"):
        folder.check_split(info, "test", 8)
    assert folder.check_split(info, "train", 8) == 8
    assert folder.check_split(info, "train", 100) == 40


def test_split_is_stable_when_files_are_added(tmp_path):
    root = str(tmp_path / "pics")
    write_pictures(root, 40)
    before = folder.scan(spec_of(root))
    write_pictures(os.path.join(root, "more"), 40, prefix="q")
    after = folder.scan(spec_of(root))
    assert set(before.test) <= set(after.test) and set(before.train) <= set(after.train)
    assert not set(after.train) & set(after.test)
    assert 0 < len(after.test) < len(after.train)  # ~10% test
    assert any(name.startswith("more/") for name in after.train + after.test)  # recursive


def test_grayscale_rgba_and_crop(tmp_path):
    root = str(tmp_path / "pics")
    os.makedirs(root)
    gray = np.arange(6 * 10, dtype=np.uint8).reshape(6, 10) * 4
    Image.fromarray(gray, "L").save(os.path.join(root, "gray.png"))
    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0
    Image.fromarray(rgba, "RGBA").save(os.path.join(root, "rgba.PNG"))
    spec = spec_of(root, size=(6, 6))
    contents = folder.scan(spec)
    names = contents.train + contents.test
    by_file = {}
    for split in ("train", "test"):
        if contents.split(split):
            for e in get_dataset(spec, split):
                by_file[e["file"].numpy().decode()] = images.to_uint8(e["image"].numpy())
    assert sorted(by_file) == sorted(names) == ["gray.png", "rgba.PNG"]
    np.testing.assert_array_equal(by_file["gray.png"], np.repeat(gray[:, 2:8, None], 3, -1))
    np.testing.assert_array_equal(by_file["rgba.PNG"][..., 0], 200)  # alpha dropped


def test_fit_image_centre_crop_and_stretch():
    picture = np.arange(4 * 8, dtype=np.uint8).reshape(4, 8, 1)
    centre = images.fit_image(picture, (2, 2), "center", method="nearest").numpy()
    assert centre.shape == (2, 2, 1)
    np.testing.assert_array_equal(centre[..., 0], picture[1::2, 3:6:2, 0])  # pixel centres
    stretched = images.fit_image(picture, (4, 4), "stretch", method="nearest").numpy()
    np.testing.assert_array_equal(stretched[..., 0], picture[:, 1::2, 0])
    same = images.fit_image(picture, (4, 8)).numpy()
    np.testing.assert_array_equal(same, picture)


def test_bad_file_is_named_or_skipped(tmp_path):
    root = str(tmp_path / "pics")
    write_pictures(root, 5)
    with open(os.path.join(root, "broken.jpg"), "wb") as f:
        f.write(b"not a picture")
    with pytest.raises(DataError, match="broken.jpg: cannot decode"):
        catalog.get(spec_of(root))
    contents = folder.scan(spec_of(root, extra="?skip_bad=1"))
    assert [name for name, _ in contents.skipped] == ["broken.jpg"]
    assert len(contents.train + contents.test) == 5
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="holds no .png"):
        folder.scan(spec_of(str(empty)))
    with pytest.raises(DataError, match="does not exist"):
        folder.scan(spec_of(str(tmp_path / "missing")))


def test_train_stream_shuffles_per_epoch_and_resumes_exactly(tmp_path):
    root = str(tmp_path / "pics")
    write_pictures(root, 24)
    spec = spec_of(root)
    size = catalog.get(spec).train_size
    full = list(get_train_stream(spec, seed=3).take(2 * size + 5))
    files = [e["file"].numpy() for e in full]
    assert [int(e["position"]) for e in full] == list(range(2 * size + 5))
    first, second = files[:size], files[size:2 * size]
    assert sorted(first) == sorted(second) and first != second  # each epoch a permutation
    resumed = list(get_train_stream(spec, seed=3, start_position=size + 3).take(size))
    assert [e["file"].numpy() for e in resumed] == files[size + 3:2 * size + 3]
    other_seed = [e["file"].numpy() for e in get_train_stream(spec, seed=4).take(size)]
    assert other_seed != first
    in_order = [e["file"].numpy() for e in get_train_stream(spec, shuffle=False).take(size)]
    assert in_order == sorted(in_order)


def test_masks_npz_gives_one_hot_masks(tmp_path):
    root = str(tmp_path / "pics")
    write_pictures(root, 12, size=(8, 8))
    names = sorted(os.listdir(root))
    ids = np.random.default_rng(0).integers(0, 3, (len(names), 8, 8)).astype(np.uint8)
    np.savez(os.path.join(root, folder.MASKS_FILE), files=np.array(names), ids=ids,
             num_entities=3, num_background=1)
    spec = spec_of(root)
    info = catalog.get(spec)
    assert (info.num_entities, info.num_background) == (3, 1)
    element = next(iter(get_dataset(spec, "train", num_examples=1)))
    row = names.index(element["file"].numpy().decode())
    mask = element["mask"].numpy()  # [K, H, W, 1]
    assert mask.shape == (3, 8, 8, 1)
    np.testing.assert_array_equal(np.argmax(mask[..., 0], axis=0), ids[row])
    assert int(element["num_objects"]) == len(set(np.unique(ids[row])) - {0})


def test_range_outside_split_and_missing_size(tmp_path):
    root = str(tmp_path / "pics")
    write_pictures(root, 10)
    with pytest.raises(DataError, match="asked for pictures"):
        get_dataset(spec_of(root), "train", num_examples=1000)
    with pytest.raises(DataError, match="does not say the model's input size"):
        get_dataset(f"images:{root}", "train")


def test_at_resolution_small_and_clevr_architectures():
    small = resolution.at_resolution(get_preset("tetrominoes").model, (48, 40))
    assert small.resolution == small.decoder_initial_resolution == (48, 40)
    clevr = resolution.at_resolution(get_preset("clevr").model, (64, 96))
    assert clevr.decoder_initial_resolution == (4, 6)
    with pytest.raises(ValueError, match="multiples of 16"):
        resolution.at_resolution(get_preset("clevr").model, (100, 100))


def test_preprocessing_is_recorded_without_reading_the_folder():
    pre = catalog.preprocessing("images:/nowhere?size=16x24&crop=stretch")
    assert pre["fit"] == "stretch" and pre["resize"] == [16, 24]
    from keras_slots.images import prepare_image

    picture = np.zeros((30, 60, 3), np.uint8)
    picture[:, 15:45] = 255  # the centre square is white
    fitted, notes = prepare_image(picture, (10, 10), catalog.preprocessing(
        "images:/nowhere?size=10x10&crop=center"))
    assert fitted.shape == (10, 10, 3) and fitted.min() == 255 and notes
    expected = images.fit_image(picture, (10, 10), "center").numpy()
    np.testing.assert_array_equal(fitted, np.clip(np.round(expected), 0, 255))
