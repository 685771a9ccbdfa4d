"""Set-prediction data: TFDS clevr:3.1.0 (mocked offline), the raw CLEVR v1 layout, and
the built-in renderer."""

import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_slots.data import clevr
from keras_slots.set_prediction import builtin, clevr_files, clevr_tfds, targets

FRAME = (320, 480)  # CLEVR v1 images: 320 rows, 480 columns
COLORS = ("gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan")


def make_scene(rng, index, num_objects, split="val"):
    """A scene in CLEVR's JSON format and its RGBA image (uint8 [320, 480, 4]).

    The image is one colour, except for a red block in its top-left corner (rows 0:40,
    columns 0:60), which a crop would remove.
    """
    objects = [{"3d_coords": [float(v) for v in rng.uniform(-3, 3, 3)],
                "pixel_coords": [1.0, 2.0, 3.0], "rotation": float(rng.uniform(0, 360)),
                "size": str(rng.choice(["small", "large"])),
                "material": str(rng.choice(["rubber", "metal"])),
                "shape": str(rng.choice(["cube", "sphere", "cylinder"])),
                "color": str(rng.choice(COLORS))} for _ in range(num_objects)]
    image = np.zeros((*FRAME, 4), np.uint8)
    image[..., :3] = rng.integers(0, 256, 3)
    image[..., 3] = 255
    image[:40, :60, :3] = (255, 0, 0)
    name = f"CLEVR_{split}_{index:06d}.png"
    return {"image_index": index, "image_filename": name, "split": split,
            "objects": objects}, image


def expected_target(objects):
    """The 19-number rows written out directly from the published layout."""
    rows = np.zeros((10, 19), np.float32)
    for row, obj in zip(rows, objects):
        row[0:3] = (np.array(obj["3d_coords"]) + 3) / 6
        row[3 + ["small", "large"].index(obj["size"])] = 1
        row[5 + ["rubber", "metal"].index(obj["material"])] = 1
        row[7 + ["cube", "sphere", "cylinder"].index(obj["shape"])] = 1
        row[10 + COLORS.index(obj["color"])] = 1
        row[18] = 1
    return rows


@pytest.fixture(scope="module")
def scenes():
    rng = np.random.default_rng(0)
    return [make_scene(rng, i, n) for i, n in enumerate((3, 11, 10, 5))]


def tfds_records(scenes):
    """The scenes as decoded TFDS clevr:3.1.0 examples (integer ClassLabels)."""
    for scene, image in scenes:
        objects = scene["objects"]
        yield {
            "image": image[..., :3], "file_name": scene["image_filename"],
            "objects": {
                "3d_coords": np.array([o["3d_coords"] for o in objects], np.float32),
                "pixel_coords": np.array([o["pixel_coords"] for o in objects], np.float32),
                "rotation": np.array([o["rotation"] for o in objects], np.float32),
                **{prop: np.array([targets.PROPERTIES[prop].index(o[prop]) for o in objects],
                                  np.int64) for prop in targets.PROPERTIES},
            },
            "question_answer": {"question": np.array([b"q?"]), "answer": np.array([b"a"])},
        }


def check_elements(elements, scenes):
    kept = [(scene, image) for scene, image in scenes if len(scene["objects"]) <= 10]
    assert len(elements) == len(kept) == 3
    for element, (scene, image) in zip(elements, kept):
        assert element["image"].shape == (128, 128, 3) and element["image"].dtype == np.float32
        np.testing.assert_allclose(element["target"], expected_target(scene["objects"]),
                                   atol=1e-6)
        # No crop: the whole frame is resized, so the red corner block survives.
        np.testing.assert_allclose(element["image"][0, 0], [1.0, -1.0, -1.0], atol=1e-6)
        background = image[0, -1, :3] / 255.0 * 2 - 1
        np.testing.assert_allclose(element["image"][-1, -1], background, atol=1e-5)
        np.testing.assert_allclose(element["image"][64, 64], background, atol=1e-5)


def test_tfds_loader_filters_preprocesses_and_encodes(scenes, tmp_path):
    def as_dataset(self, *args, **kwargs):
        signature = self.info.features.get_tensor_spec()
        return tf.data.Dataset.from_generator(lambda: tfds_records(scenes),
                                              output_signature=signature)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        dataset = clevr_tfds.load("validation", data_dir=str(tmp_path))
        elements = list(dataset.as_numpy_iterator())
    check_elements(elements, scenes)
    assert dataset.element_spec["target"].shape == (10, 19)


def test_tfds_loader_says_when_the_dataset_is_not_prepared(tmp_path):
    with pytest.raises(clevr_tfds.TfdsDataError, match="not prepared"):
        clevr_tfds.load("train", data_dir=str(tmp_path))


def write_clevr_folder(root, scenes, split="val"):
    (root / "images" / split).mkdir(parents=True)
    (root / "scenes").mkdir()
    for scene, image in scenes:
        png = tf.io.encode_png(image).numpy()
        (root / "images" / split / scene["image_filename"]).write_bytes(png)
    info = {"split": split, "version": "1.0", "date": "2/14/2017", "license": "CC BY 4.0"}
    with open(root / "scenes" / f"CLEVR_{split}_scenes.json", "w") as f:
        json.dump({"info": info, "scenes": [scene for scene, _ in scenes]}, f)


def test_raw_clevr_folder_reads_like_tfds(scenes, tmp_path):
    root = tmp_path / "CLEVR_v1.0"
    write_clevr_folder(root, scenes)
    elements = list(clevr_files.load(str(root), "val").as_numpy_iterator())
    check_elements(elements, scenes)

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_generator(
            lambda: tfds_records(scenes), output_signature=self.info.features.get_tensor_spec())

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        via_tfds = list(clevr_tfds.load("validation", data_dir=str(tmp_path))
                        .as_numpy_iterator())
    for mine, theirs in zip(elements, via_tfds):
        np.testing.assert_array_equal(mine["image"], theirs["image"])
        np.testing.assert_array_equal(mine["target"], theirs["target"])


def test_raw_clevr_folder_errors_name_the_problem(scenes, tmp_path):
    root = tmp_path / "CLEVR_v1.0"
    write_clevr_folder(root, scenes)
    with pytest.raises(clevr_files.ClevrFilesError, match="no scene annotations"):
        clevr_files.load(str(root), "test")
    (root / "images" / "val" / scenes[0][0]["image_filename"]).unlink()
    with pytest.raises(clevr_files.ClevrFilesError, match="1 images .* missing"):
        clevr_files.load(str(root), "val")


def test_builtin_renderer_codes_map_to_tfds_classes():
    scene = clevr.generate_scene(np.random.default_rng(4))
    rows = builtin.scene_targets(scene).numpy()  # [10, 19]
    names = clevr.attribute_names(scene)
    decoded = targets.decode_names(rows)
    n = len(names)
    assert rows[:n, 18].tolist() == [1.0] * n and not rows[n:].any()
    for i, obj in enumerate(names):
        assert {k: decoded[i][k] for k in targets.PROPERTIES} == obj
        xyz = [scene[axis][i + 1] for axis in "xyz"]
        np.testing.assert_allclose(decoded[i]["coords"], xyz, atol=1e-5)
    # Every renderer code goes to the TFDS index of the same class name.
    for prop, table in builtin.RENDERER_TABLES.items():
        lookup = builtin.code_to_class_index(prop)
        assert [targets.PROPERTIES[prop][lookup[code]] for code in range(1, len(table) + 1)] \
            == list(table)


def test_builtin_stream_gives_model_ready_examples():
    dataset = builtin.load("test", num_examples=2)
    elements = list(dataset.as_numpy_iterator())
    assert len(elements) == 2
    for element in elements:
        assert element["image"].shape == (128, 128, 3)
        assert -1.0 <= element["image"].min() and element["image"].max() <= 1.0
        num_real = int(element["target"][:, 18].sum())
        assert 3 <= num_real <= 10 and element["target"][:num_real, 18].all()
