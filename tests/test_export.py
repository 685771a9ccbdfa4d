"""SavedModel export: loads without keras_slots, matches the Keras model, atomic; predict.py."""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_slots import export, visualize
from keras_slots.config import get_preset
from keras_slots.models import create_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOAD_IN_FRESH_PROCESS = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
images = np.load(sys.argv[2])
out = {k: v.numpy() for k, v in loaded.serving_default(images).items()}
meta = json.loads(loaded.metadata().numpy().decode())
assert "keras_slots" not in sys.modules
np.savez(sys.argv[3], **out)
print(json.dumps(meta))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    config = dataclasses.replace(get_preset("tetrominoes").model, encoder_channels=(8, 8),
                                 decoder_channels=(8,), decoder_strides=(1,), slot_size=16,
                                 mlp_hidden_size=16)
    model = create_model(config)
    model.build((None, 35, 35, 3))
    path = str(tmp_path_factory.mktemp("export") / "tiny")
    export.export_saved_model(model, path, {"preset": "tiny", "step": 7})
    return model, path


def _uint8_images(n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 35, 35, 3), dtype=np.uint8)


def test_fresh_process_without_keras_slots_matches_keras_model(exported, tmp_path):
    model, path = exported
    images = _uint8_images()
    np.save(tmp_path / "images.npy", images)
    proc = subprocess.run(
        [sys.executable, "-c", LOAD_IN_FRESH_PROCESS, path, str(tmp_path / "images.npy"),
         str(tmp_path / "out.npz")],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=""))
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads(proc.stdout.strip().splitlines()[-1])
    assert meta["step"] == 7 and meta["num_slots"] == 4 and meta["resolution"] == [35, 35]
    got = np.load(tmp_path / "out.npz")
    floats = images.astype(np.float32) / 127.5 - 1.0
    seed = tf.constant(export.SERVING_SEED)
    expected = model(floats, slot_noise=export.shared_slot_noise(model, floats, seed))
    for key in ("recon", "recons", "masks", "slots", "attn"):
        np.testing.assert_allclose(got[key], expected[key].numpy(), atol=1e-5, err_msg=key)
    np.testing.assert_array_equal(
        got["segmentation"], np.argmax(expected["masks"].numpy()[..., 0], axis=1))
    with open(os.path.join(path, export.METADATA_FILE)) as f:
        assert json.load(f)["preset"] == "tiny"


def test_any_batch_size_seeded_endpoint_and_tfsmlayer(exported):
    model, path = exported
    loaded = tf.saved_model.load(path)
    images = _uint8_images(5).astype(np.float32) / 127.5 - 1.0
    seed = tf.constant([3, 1], tf.int32)
    out = loaded.predict_float(images, seed)
    expected = model(images, slot_noise=export.shared_slot_noise(model, images, seed))
    np.testing.assert_allclose(out["masks"].numpy(), expected["masks"].numpy(), atol=1e-5)
    assert loaded.serving_default(_uint8_images(1))["recon"].shape == (1, 35, 35, 3)
    layer = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
    np.testing.assert_allclose(layer(_uint8_images(2))["slots"].numpy(),
                               loaded.serving_default(_uint8_images(2))["slots"].numpy())


def test_an_image_gets_the_same_outputs_alone_and_inside_any_batch(exported):
    _, path = exported
    loaded = tf.saved_model.load(path)
    images = _uint8_images(6, seed=4)
    together = loaded.serving_default(images)
    for i in (0, 4):
        alone = loaded.serving_default(images[i:i + 1])
        np.testing.assert_allclose(alone["masks"].numpy()[0], together["masks"].numpy()[i],
                                   atol=1e-5)
        np.testing.assert_array_equal(alone["segmentation"].numpy()[0],
                                      together["segmentation"].numpy()[i])
    # Different images still differ: the shared noise does not make outputs constant.
    assert not np.allclose(together["recon"].numpy()[0], together["recon"].numpy()[1])


def test_shared_slot_noise_is_one_draw_for_the_batch_and_none_without_gaussian_init():
    config = dataclasses.replace(get_preset("tetrominoes").model, encoder_channels=(4,),
                                 decoder_channels=(4,), decoder_strides=(1,), slot_size=8,
                                 mlp_hidden_size=8)
    model = create_model(config)
    images = np.zeros((3, 35, 35, 3), np.float32)
    seed = tf.constant([1, 2])
    noise = export.shared_slot_noise(model, images, seed).numpy()
    assert noise.shape == (3, 4, 8)
    np.testing.assert_array_equal(noise[0], noise[2])
    assert export.shared_slot_noise(model, images, seed, num_slots=6).shape == (3, 6, 8)
    learned = create_model(dataclasses.replace(config, slot_init="learned"))
    assert export.shared_slot_noise(learned, images, seed) is None


def test_failed_export_keeps_the_previous_one(exported, monkeypatch):
    model, path = exported
    before = sorted(os.listdir(path))

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    # keras.export.ExportArchive() builds an instance of a backend-specific subclass.
    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", broken)
    with pytest.raises(OSError, match="disk full"):
        export.export_saved_model(model, path, {"step": 8})
    assert sorted(os.listdir(path)) == before
    assert not [p for p in os.listdir(os.path.dirname(path)) if ".tmp-" in p]
    loaded = tf.saved_model.load(path)  # keep a reference: its variables die with it
    assert loaded.serving_default(_uint8_images(1))["recon"].shape[0] == 1


def test_predict_script_writes_segmentations_and_rejects_bad_images(exported, tmp_path):
    _, path = exported
    folder = tmp_path / "images"
    folder.mkdir()
    visualize.save_png(str(folder / "a.png"), _uint8_images(1)[0])
    big = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    (folder / "sub").mkdir()  # Folders are read recursively, hidden ones left out.
    visualize.save_png(str(folder / "sub" / "b.png"), big)
    (folder / ".hidden").mkdir()
    visualize.save_png(str(folder / ".hidden" / "c.png"), big)
    script = os.path.join(ROOT, "scripts", "predict.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out_dir = tmp_path / "out"
    proc = subprocess.run([sys.executable, script, f"--saved_model={path}",
                           f"--images={folder}", f"--output_dir={out_dir}"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "b.png: resized 50x40 to 35x35" in proc.stderr
    with open(out_dir / "summary.json") as f:
        summary = json.load(f)
    assert [os.path.relpath(s["file"], folder) for s in summary["images"]] == [
        "a.png", os.path.join("sub", "b.png")]
    assert abs(sum(summary["images"][0]["slot_pixel_fraction"]) - 1) < 1e-9
    assert (out_dir / "a_segmentation.png").exists() and (out_dir / "masks.png").exists()

    # Grayscale and RGBA files are converted, with a note, and segment like their RGB.
    rgb = _uint8_images(1, seed=4)[0]
    kinds = tmp_path / "kinds"
    kinds.mkdir()
    tf.io.write_file(str(kinds / "gray.png"), tf.io.encode_png(rgb[..., :1]))
    tf.io.write_file(str(kinds / "gray_rgb.png"), tf.io.encode_png(np.repeat(rgb[..., :1], 3, -1)))
    alpha = np.full((35, 35, 1), 255, np.uint8)
    tf.io.write_file(str(kinds / "rgba.png"), tf.io.encode_png(np.concatenate([rgb, alpha], -1)))
    tf.io.write_file(str(kinds / "rgb.png"), tf.io.encode_png(rgb))
    kinds_out = tmp_path / "kinds_out"
    proc = subprocess.run([sys.executable, script, f"--saved_model={path}",
                           f"--images={kinds}", f"--output_dir={kinds_out}",
                           "--batch_size=1"],  # the same slot noise for every image
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "gray.png: grayscale: repeated to RGB" in proc.stderr
    assert "rgba.png: RGBA: alpha channel dropped" in proc.stderr
    with open(kinds_out / "summary.json") as f:
        fractions = {os.path.basename(s["file"]): s["slot_pixel_fraction"]
                     for s in json.load(f)["images"]}
    assert fractions["gray.png"] == fractions["gray_rgb.png"]
    assert fractions["rgba.png"] == fractions["rgb.png"]

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    proc = subprocess.run([sys.executable, script, f"--saved_model={path}",
                           f"--images={broken}", f"--output_dir={out_dir}"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1 and f"{broken}: cannot read as PNG/JPEG" in proc.stderr


LOAD_KERAS_FILE = """
import sys
import numpy as np
import keras
import keras_slots  # Registers the layers and models: nothing else is imported.
model = keras.saving.load_model(sys.argv[1])
images = np.load(sys.argv[2])
out = model(images, seed=np.array([3, 4], "int32"))
np.save(sys.argv[3], out["recon"].numpy())
print(type(model).__name__)
"""


def test_model_keras_beside_the_saved_model_loads_after_import_keras_slots(exported, tmp_path):
    model, path = exported
    images = _uint8_images(2).astype(np.float32) / 127.5 - 1.0
    np.save(tmp_path / "images.npy", images)
    proc = subprocess.run(
        [sys.executable, "-c", LOAD_KERAS_FILE, os.path.join(path, export.KERAS_FILE),
         str(tmp_path / "images.npy"), str(tmp_path / "recon.npy")],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "SlotAttentionAutoEncoder"
    expected = model(images, seed=tf.constant([3, 4]))["recon"].numpy()
    np.testing.assert_allclose(np.load(tmp_path / "recon.npy"), expected, atol=1e-6)
