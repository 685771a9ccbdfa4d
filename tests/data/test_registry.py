"""Tests for the dataset registry and the seeding of built-in streams."""

import ast
import dataclasses
import os
import time

import numpy as np
import pytest

from keras_slots.data import formats
from keras_slots.data import get_dataset
from keras_slots.data import records
from keras_slots.data import registry
from keras_slots.data import seeding
from keras_slots.data import tetrominoes

DATA_DIR = os.path.dirname(registry.__file__)

# Facts of the published files, written out here independently of the package's tables:
# name -> (image size, masks per scene, background masks, train records, test only).
PUBLISHED = {
    "clevr_with_masks": ((240, 320), 11, 1, 70_000, False),
    "clevr6": ((240, 320), 11, 1, 70_000, False),
    "multi_dsprites_binarized": ((64, 64), 4, 1, 60_000, False),
    "multi_dsprites_colored_on_grayscale": ((64, 64), 6, 1, 60_000, False),
    "multi_dsprites_colored_on_colored": ((64, 64), 5, 1, 60_000, False),
    "tetrominoes": ((35, 35), 4, 1, 60_000, False),
    "objects_room": ((64, 64), 7, 4, 60_000, False),
    "objects_room_six_objects": ((64, 64), 10, 4, 60_000, True),
    "objects_room_empty_room": ((64, 64), 4, 4, 60_000, True),
    "objects_room_identical_color": ((64, 64), 10, 4, 60_000, True),
}


def test_entries_state_the_published_facts():
    assert registry.DATASET_NAMES == tuple(PUBLISHED)
    for name, (size, k, background, train, test_only) in PUBLISHED.items():
        info = registry.get(name)
        assert info.name == name
        assert (info.image_size, info.num_entities, info.num_background) == (size, k,
                                                                             background)
        assert (info.train_size, info.test_size, info.test_only) == (train, 320, test_only)
        assert info.splits == (("test",) if test_only else ("train", "test"))
        assert (info.keep is not None) == (info.transform is not None) == (name == "clevr6")


@pytest.mark.parametrize("name", [n for n in PUBLISHED if not n.startswith("clevr")])
def test_generator_gives_the_features_of_the_file(name):
    info = registry.get(name)
    scene = info.generate(seeding.scene_rng(0, info.splits[0], 0))
    assert set(scene) == set(info.file_format.features)
    (height, width), k = info.image_size, info.num_entities
    assert scene["image"].shape == (height, width, 3) and scene["image"].dtype == np.uint8
    assert scene["mask"].shape == (k, height, width, 1) and scene["mask"].dtype == np.uint8


@pytest.mark.parametrize("name", [n for n in PUBLISHED if not n.startswith("clevr")])
def test_a_scene_is_a_pure_function_of_its_rng(name):
    generate = registry.get(name).generate
    a = generate(np.random.default_rng([7, 1, 3]))
    b = generate(np.random.default_rng([7, 1, 3]))
    c = generate(np.random.default_rng([7, 1, 4]))
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
    assert a["image"].tobytes() != c["image"].tobytes()


# CPU seconds per scene at most: measured 1-4 ms on 2 cores shared with other jobs.
GENERATION_LIMITS = {name: 0.02 if name.startswith("objects_room") else 0.01
                     for name in PUBLISHED if not name.startswith("clevr")}


@pytest.mark.slow  # A time limit: not in the default run, where other jobs share the CPU.
@pytest.mark.parametrize("name", sorted(GENERATION_LIMITS))
def test_generation_is_fast(name):
    generate = registry.get(name).generate
    start = time.process_time()  # CPU time of this process, not wall time.
    for i in range(40):
        generate(seeding.scene_rng(0, "test", i))
    per_scene = (time.process_time() - start) / 40
    assert per_scene < GENERATION_LIMITS[name], per_scene


def test_preprocessing_says_what_the_transform_does():
    clevr6 = registry.get("clevr6").preprocessing()
    assert clevr6 == {"source_size": [240, 320], "crop": [[29, 221], [64, 256]],
                      "resize": [128, 128], "resize_method": "bilinear", "channels": 3}
    plain = registry.get("tetrominoes").preprocessing()
    assert plain["crop"] is None and plain["resize"] == plain["source_size"] == [35, 35]


def test_scene_rng_is_numpy_seeded_with_seed_split_code_and_index():
    for seed, split, code, index in ((0, "train", 0, 0), (7, "test", 1, 12345)):
        got = seeding.scene_rng(seed, split, np.int64(index)).integers(2**31, size=4)
        want = np.random.default_rng([seed, code, index]).integers(2**31, size=4)
        np.testing.assert_array_equal(got, want)


def test_generate_scenes_stacks_the_stream_scenes():
    batch = registry.get("tetrominoes").generate_scenes(7, "test", [4, 2])
    assert batch["image"].shape == (2, 35, 35, 3)
    assert batch["mask"].shape == (2, 4, 35, 35, 1)
    for row, index in enumerate([4, 2]):
        scene = tetrominoes.generate_scene(np.random.default_rng([7, 1, index]))
        for key in scene:
            np.testing.assert_array_equal(batch[key][row], scene[key], err_msg=key)


def test_check_split_is_the_one_check_of_names_splits_and_ranges():
    assert registry.check_split("tetrominoes", "test", 3, 0).name == "tetrominoes"
    bad = {("tetris", "train", 0, None): "unknown dataset 'tetris'; choose one of clevr",
           ("tetrominoes", "valid", 0, None): "unknown split 'valid'",
           ("objects_room_empty_room", "train", 0, None): "is a test set",
           ("tetrominoes", "train", -1, None): "must be >= 0",
           ("tetrominoes", "train", 0, -2): "must be >= 0"}
    for args, message in bad.items():
        with pytest.raises(registry.DataError, match=message):
            registry.check_split(*args)
    assert issubclass(registry.DataError, ValueError)
    assert records.DataError is registry.DataError


def test_a_new_dataset_is_one_entry(monkeypatch, tmp_path):
    fmt = dataclasses.replace(formats.TETROMINOES, file_name="mini.tfrecords")
    info = registry.DatasetInfo("mini", fmt, tetrominoes.generate_scene, train_size=3,
                                test_size=2)
    monkeypatch.setitem(registry.DATASETS, "mini", info)
    builtin = list(get_dataset("mini", "test", seed=1).as_numpy_iterator())
    assert len(builtin) == 2
    scenes = [tetrominoes.generate_scene(seeding.scene_rng(1, "train", i)) for i in range(3)]
    scenes += [tetrominoes.generate_scene(seeding.scene_rng(1, "test", i)) for i in range(2)]
    records.write_records(records.dataset_path("mini", tmp_path), scenes, "mini")
    from_file = list(get_dataset("mini", "test", data_dir=tmp_path).as_numpy_iterator())
    assert len(from_file) == 2
    for got, want in zip(from_file, builtin):
        np.testing.assert_array_equal(got["image"], want["image"])


def _data_imports(path):
    """Names of keras_slots.data modules that a module imports (anywhere in it)."""
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.module == "keras_slots.data":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "keras_slots.data."):
            names.add(node.module.split(".")[2])
    return names


def test_data_modules_import_each_other_one_way():
    modules = {name[:-3] for name in os.listdir(DATA_DIR)
               if name.endswith(".py") and name != "__init__.py"}
    graph = {m: _data_imports(os.path.join(DATA_DIR, f"{m}.py")) & modules for m in modules}
    done, active = set(), []

    def visit(module):
        assert module not in active, f"import cycle: {' -> '.join(active + [module])}"
        if module in done:
            return
        active.append(module)
        for other in sorted(graph[module]):
            visit(other)
        active.pop()
        done.add(module)

    for module in sorted(modules):
        visit(module)
    assert "pipeline" not in graph["records"] and "records" in graph["pipeline"]
