"""Set prediction through the scripts: train, evaluate (AP table), export, predict."""

import json

import keras
import numpy as np
import tensorflow as tf

import keras_slots  # noqa: F401  (registers the layers and models for load_model)
from keras_slots.export import shared_slot_noise
from tests.conftest import run_script
from tests.set_prediction.test_task import TINY_SET_PREDICTION

TINY_FLAGS = ["--preset=clevr_set_prediction_cpu"] + [
    f"--set={key}={json.dumps(value)}" for key, value in TINY_SET_PREDICTION.items()
] + ["--num_steps=2", "--eval_every=0", "--image_every=1000"]


def test_train_evaluate_export_predict(tmp_path):
    model_dir, out = str(tmp_path / "run"), tmp_path / "eval"
    train = run_script("train.py", *TINY_FLAGS, f"--model_dir={model_dir}", timeout=600)
    assert train.returncode == 0, train.stderr
    assert "(set_prediction) on clevr (built-in renderer)" in train.stderr

    evaluate = run_script("evaluate.py", f"--model_dir={model_dir}", "--num_examples=6",
                          "--batch_size=4", "--num_picture=2", f"--output_dir={out}")
    assert evaluate.returncode == 0, evaluate.stderr
    table = json.loads((out / "metrics.json").read_text())
    assert set(table["ap"]) == {"inf", "1", "0.5", "0.25", "0.125"}
    assert all(0 <= v <= 100 for v in table["ap"].values())
    assert table["num_images"] == 6 and table["num_predictions"] == 60
    assert table["paper_ap"]["inf"] == 94.3 and table["step"] == 2
    markdown = (out / "metrics.md").read_text()
    assert "| ∞ |" in markdown and "| 0.125 |" in markdown and "94.3" in markdown
    assert "| distance threshold | AP (%) | paper AP (%) |" in evaluate.stdout
    predictions = json.loads((out / "predictions.json").read_text())
    assert len(predictions) == 6 and len(predictions[0]["pred"]) == 10
    picture = tf.io.decode_png(tf.io.read_file(str(out / "predictions.png"))).numpy()
    assert picture.shape[0] > 200 and picture.std() > 0

    export_dir = str(tmp_path / "export")
    export = run_script("export.py", f"--model_dir={model_dir}", f"--export_dir={export_dir}")
    assert export.returncode == 0, export.stderr
    loaded = tf.saved_model.load(export_dir)
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    served = loaded.serving_default(images)
    assert served["pred"].shape == (2, 10, 19) and served["coords"].shape == (2, 10, 3)
    names = {"size": {b"small", b"large"}, "material": {b"rubber", b"metal"},
             "shape": {b"cube", b"sphere", b"cylinder"}}
    for prop, allowed in names.items():
        assert set(served[prop].numpy().ravel()) <= allowed
    assert served["color"].dtype == tf.string
    np.testing.assert_allclose(served["real_object"], served["pred"][..., 18])
    np.testing.assert_allclose(served["coords"], served["pred"][..., :3] * 6 - 3, atol=1e-5)
    again = loaded.serving_default(images)["pred"]  # Seeded slot noise: repeatable.
    np.testing.assert_array_equal(again, served["pred"])
    metadata = json.loads(loaded.metadata().numpy())
    assert metadata["task"] == "set_prediction" and metadata["resolution"] == [32, 32]
    model = keras.saving.load_model(f"{export_dir}/model.keras")
    float_images = images.astype(np.float32) / 127.5 - 1
    noise = shared_slot_noise(model, float_images, tf.constant([0, 0]))  # [2, 10, D]
    np.testing.assert_allclose(
        model(float_images, slot_noise=noise)["pred"],
        loaded.predict_float(float_images, tf.constant([0, 0]))["pred"], atol=1e-5)
    # One image alone gets the predictions it gets inside the batch.
    np.testing.assert_allclose(loaded.serving_default(images[1:])["pred"][0],
                               served["pred"][1], atol=1e-5)

    photos = tmp_path / "photos"
    photos.mkdir()
    frame = np.full((320, 480, 4), 255, np.uint8)
    frame[100:200, 150:250, :3] = (200, 30, 30)
    (photos / "scene.png").write_bytes(tf.io.encode_png(frame).numpy())
    predict = run_script("predict.py", f"--saved_model={export_dir}", f"--images={photos}",
                         f"--output_dir={tmp_path / 'pred'}", "--min_score=0")
    assert predict.returncode == 0, predict.stderr
    assert "scene.png: 10 objects" in predict.stdout
    written = json.loads((tmp_path / "pred" / "predictions.json").read_text())
    assert len(written["images"][0]["objects"]) == 10
    assert (tmp_path / "pred" / "scene_properties.png").exists()


def test_set_prediction_needs_the_clevr_dataset(tmp_path):
    train = run_script("train.py", *TINY_FLAGS, "--dataset=tetrominoes",
                       f"--model_dir={tmp_path}")
    assert train.returncode != 0
    assert "set prediction trains on dataset 'clevr', not 'tetrominoes'" in train.stderr
