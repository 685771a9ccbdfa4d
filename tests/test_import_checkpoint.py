"""Importing the paper authors' released checkpoints (keras_slots.released, import_checkpoint.py).

The checkpoints here are written in the released layout by tests/released_reference.py, with
random weights, and the imported models are compared with its independent numpy forward pass.
"""

import json
import os
import shutil
import uuid

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_slots import released
from keras_slots.config import OBJECT_DISCOVERY, SET_PREDICTION
from keras_slots.tasks import get_task
from keras_slots.training import checkpoints, loop
from keras_slots.training.schedule import WarmupExponentialDecay
from tests import released_reference as reference
from tests.conftest import run_script, tiny_config
from tests.test_cli_errors import TF_NOISE

VALUE = "/.ATTRIBUTES/VARIABLE_VALUE"
NET = "network/layer_with_weights-0/"
CROP = [[29, 221], [64, 256]]


@pytest.fixture(scope="module")
def object_discovery(tmp_path_factory):
    """(folder of a released-layout object-discovery checkpoint, weights, Adam moments)."""
    weights = reference.random_weights(OBJECT_DISCOVERY, seed=0)
    folder = str(tmp_path_factory.mktemp("object-discovery"))
    _, moments = reference.write_checkpoint(folder, weights)
    return folder, weights, moments


@pytest.fixture(scope="module")
def set_prediction(tmp_path_factory):
    weights = reference.random_weights(SET_PREDICTION, seed=1)
    folder = str(tmp_path_factory.mktemp("set-prediction"))
    _, moments = reference.write_checkpoint(folder, weights, step=150_000, number=150)
    return folder, weights, moments


@pytest.fixture(scope="module")
def imported_object_discovery(object_discovery, tmp_path_factory):
    model_dir = str(tmp_path_factory.mktemp("runs") / "paper_clevr")
    return released.import_checkpoint(object_discovery[0], model_dir)


def _write(tmp_path, weights, **kwargs):
    folder = str(tmp_path / f"ckpt-{uuid.uuid4().hex[:6]}")
    return reference.write_checkpoint(folder, weights, **kwargs)[0]


def test_test_checkpoints_have_the_released_layout_and_the_table_covers_it(object_discovery,
                                                                           set_prediction):
    for (folder, _, _), task in ((object_discovery, OBJECT_DISCOVERY),
                                 (set_prediction, SET_PREDICTION)):
        shapes = dict(tf.train.list_variables(folder))
        network = {k[len(NET):-len(VALUE)] for k in shapes
                   if k.startswith(NET) and k.endswith(VALUE) and ".OPTIMIZER_SLOT" not in k}
        assert network == {name for name, _ in released.TABLE[task]}
        assert {"global_step" + VALUE, "optimizer/iter" + VALUE} <= set(shapes)
    shapes = dict(tf.train.list_variables(object_discovery[0]))
    assert len(released.TABLE[OBJECT_DISCOVERY]) == 48
    assert len(released.TABLE[SET_PREDICTION]) == 38
    for key, shape in {
            "encoder_cnn/layer_with_weights-0/kernel": [5, 5, 3, 64],
            "encoder_pos/dense/kernel": [4, 64], "layer_norm/gamma": [64],
            "mlp/layer_with_weights-1/bias": [64], "slot_attention/slots_mu": [1, 1, 64],
            "slot_attention/project_q/kernel": [64, 64], "slot_attention/gru/bias": [2, 192],
            "slot_attention/gru/recurrent_kernel": [64, 192],
            "slot_attention/mlp/layer_with_weights-0/kernel": [64, 128],
            "decoder_pos/dense/bias": [64],
            "decoder_cnn/layer_with_weights-5/kernel": [3, 3, 4, 64],
    }.items():
        assert shapes[NET + key + VALUE] == shape, key
    assert shapes[NET + "encoder_cnn/layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m"
                  + VALUE] == [5, 5, 3, 64]


def test_object_discovery_import_computes_the_released_function(object_discovery,
                                                                imported_object_discovery):
    _, weights, _ = object_discovery
    result = imported_object_discovery
    assert (result["task"], result["step"], result["optimizer"]) == (OBJECT_DISCOVERY, 500_000,
                                                                     True)
    assert result["checkpoint"].endswith("ckpt-500")
    model, config, step = checkpoints.restore_model(result["model_dir"], compute_dtype="float32")
    assert step == 500_000 and config.task == OBJECT_DISCOVERY
    assert (config.model.num_slots, config.model.resolution) == (7, (128, 128))
    assert config.train.preprocessing["crop"] == CROP
    assert config.train.preprocessing["source_size"] == [320, 480]
    rng = np.random.default_rng(2)
    images = rng.uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    noise = rng.standard_normal((1, 3, 64)).astype(np.float32)  # 3 of the 7 slots: faster.
    ours = model(images, num_slots=3, slot_noise=noise)
    expected = reference.autoencoder(weights, images, noise)
    for key in ("recon", "recons", "masks", "slots"):
        np.testing.assert_allclose(ours[key].numpy(), expected[key], atol=1e-4, err_msg=key)
    assert expected["masks"].std() > 0.05 and expected["recons"].std() > 0.1  # Not trivial.


def test_set_prediction_import_computes_the_released_function(set_prediction, tmp_path):
    folder, weights, _ = set_prediction
    result = released.import_checkpoint(os.path.join(folder, "ckpt-150"),
                                        str(tmp_path / "sp"))
    assert (result["task"], result["step"]) == (SET_PREDICTION, 150_000)
    model, config, _ = checkpoints.restore_model(str(tmp_path / "sp"), compute_dtype="float32")
    assert config.model.num_slots == 10 and config.model.encoder_strides == (1, 2, 2, 1)
    assert config.train.preprocessing["crop"] is None
    rng = np.random.default_rng(3)
    images = rng.uniform(-1, 1, (2, 128, 128, 3)).astype(np.float32)
    noise = rng.standard_normal((2, 10, 64)).astype(np.float32)
    pred = model(images, slot_noise=noise)["pred"].numpy()  # [2, 10, 19]
    expected = reference.classifier(weights, images, noise)
    np.testing.assert_allclose(pred, expected, atol=1e-4)
    assert expected.std() > 0.05


def test_the_training_loop_resumes_the_imported_run_with_its_adam_state(
        object_discovery, imported_object_discovery):
    _, weights, moments = object_discovery
    model_dir = imported_object_discovery["model_dir"]
    config = checkpoints.load_config(model_dir)
    tc = config.train
    # Built as training.loop.set_up builds them; its restore checks every object matched.
    model = get_task(config.task).build_model(config.model, "float32", seed=tc.seed)
    optimizer = keras.optimizers.Adam(WarmupExponentialDecay(
        tc.learning_rate, tc.warmup_steps, tc.decay_rate, tc.decay_steps), epsilon=1e-8)
    optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    position = tf.Variable(-1, dtype=tf.int64)
    manager = loop._restore(model, optimizer, step, position, model_dir, tc.keep_checkpoints)
    assert manager.latest_checkpoint.endswith("ckpt-500000")
    assert (int(step.numpy()), int(position.numpy())) == (500_000, 0)
    assert int(optimizer.iterations.numpy()) == 500_000
    ours = {w.path.split("/", 1)[1]: w for w in model.trainable_variables}
    for released_name, our_name in released.TABLE[OBJECT_DISCOVERY]:
        variable = ours[our_name]
        np.testing.assert_array_equal(variable.numpy(), reference.flatten(weights)[released_name])
        index = optimizer._get_variable_index(variable)
        m, v = moments[released_name]
        np.testing.assert_array_equal(optimizer._momentums[index].numpy(), m)
        np.testing.assert_array_equal(optimizer._velocities[index].numpy(), v)


def test_a_checkpoint_without_adam_state_imports_the_weights_alone(tmp_path):
    weights = reference.random_weights(SET_PREDICTION, seed=4)
    prefix = _write(tmp_path, weights, adam=False, step=1234)
    result = released.import_checkpoint(prefix, str(tmp_path / "run"), num_slots=6,
                                        resolution=(64, 64))
    assert (result["optimizer"], result["step"]) == (False, 1234)
    model, config, step = checkpoints.restore_model(str(tmp_path / "run"), compute_dtype="float32")
    assert (step, config.model.num_slots, config.model.resolution) == (1234, 6, (64, 64))
    assert config.train.preprocessing["resize"] == [64, 64]


def test_sizes_come_from_the_weight_shapes(tmp_path):
    weights = reference.random_weights(OBJECT_DISCOVERY, seed=5, width=16, slot_size=8,
                                       mlp_hidden=24)
    config = released.released_config(OBJECT_DISCOVERY, reference.flatten(weights),
                                      resolution=(64, 32))
    model = config.model
    assert (model.encoder_channels, model.decoder_channels) == ((16,) * 4, (16,) * 5)
    assert (model.slot_size, model.mlp_hidden_size, model.encoder_mlp_size) == (8, 24, 16)
    assert (model.decoder_initial_resolution, model.num_slots) == ((4, 2), 7)
    with pytest.raises(ValueError, match="multiples of 16"):
        released.released_config(OBJECT_DISCOVERY, reference.flatten(weights),
                                 resolution=(100, 100))


def test_a_path_that_is_not_a_checkpoint_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    for path, message in ((tmp_path / "missing", "is not a TensorFlow checkpoint"),
                          (tmp_path / "empty", "holds no TensorFlow checkpoint"),
                          (tmp_path / "notes.txt", "is not a TensorFlow checkpoint")):
        with pytest.raises(released.ReleasedCheckpointError, match=message):
            released.import_checkpoint(str(path), str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_a_folder_without_a_state_file_gives_its_highest_checkpoint(tmp_path, set_prediction):
    folder = tmp_path / "copied"
    shutil.copytree(set_prediction[0], folder)
    os.remove(folder / "checkpoint")
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(folder / f"ckpt-150{suffix}", folder / f"ckpt-9{suffix}")
    assert released.checkpoint_prefix(str(folder)) == str(folder / "ckpt-150")


def test_a_checkpoint_of_another_architecture_names_the_first_mismatch(tmp_path,
                                                                       imported_object_discovery):
    ours = tf.train.latest_checkpoint(imported_object_discovery["model_dir"])
    with pytest.raises(released.ReleasedCheckpointError,
                       match="it has no variable network/layer_with_weights-0/encoder_cnn/"
                             "layer_with_weights-0/kernel/"):
        released.read_released(ours)  # Our own format is not the released one.
    weights = reference.random_weights(OBJECT_DISCOVERY, seed=6)
    del weights["slot_attention"]["gru"]["bias"]
    with pytest.raises(released.ReleasedCheckpointError,
                       match="no variable network/layer_with_weights-0/slot_attention/gru/bias"):
        released.read_released(_write(tmp_path, weights))
    weights = reference.random_weights(OBJECT_DISCOVERY, seed=6)
    weights["slot_attention"]["project_q"]["kernel"] = np.ones((64, 32), np.float32)
    with pytest.raises(released.ReleasedCheckpointError,
                       match=r"slot_attention/project_q/kernel/.* has shape \[64, 32\]; the "
                             r"model built from the checkpoint's sizes needs \[64, 64\]"):
        released.import_checkpoint(_write(tmp_path, weights), str(tmp_path / "run"))
    weights = reference.random_weights(OBJECT_DISCOVERY, seed=6)
    weights["encoder_cnn"]["layer_with_weights-4"] = weights["encoder_cnn"]["layer_with_weights-3"]
    with pytest.raises(released.ReleasedCheckpointError,
                       match="has variable network/layer_with_weights-0/encoder_cnn/"
                             "layer_with_weights-4/bias"):
        released.read_released(_write(tmp_path, weights))
    weights = reference.random_weights(OBJECT_DISCOVERY, seed=6)
    weights["mlp_classifier"] = {"layer_with_weights-0": {"kernel": np.ones((64, 64),
                                                                            np.float32)}}
    with pytest.raises(released.ReleasedCheckpointError, match="has both"):
        released.read_released(_write(tmp_path, weights))
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("part", [".index", ".data-00000-of-00001"])
def test_a_truncated_checkpoint_is_refused(tmp_path, set_prediction, part):
    folder = tmp_path / "truncated"
    shutil.copytree(set_prediction[0], folder)
    path = folder / f"ckpt-150{part}"
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with pytest.raises(released.ReleasedCheckpointError, match="cannot read the checkpoint"):
        released.import_checkpoint(str(folder), str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_a_model_dir_with_another_run_or_checkpoints_is_refused_and_kept(
        tmp_path, set_prediction, imported_object_discovery):
    other = tmp_path / "other"
    other.mkdir()
    config_text = tiny_config().to_json()
    (other / "config.json").write_text(config_text)
    with pytest.raises(checkpoints.RunDirError, match="holds a different run"):
        released.import_checkpoint(set_prediction[0], str(other))
    assert os.listdir(other) == ["config.json"]
    assert (other / "config.json").read_text() == config_text
    model_dir = imported_object_discovery["model_dir"]
    before = sorted(os.listdir(model_dir))
    with pytest.raises(checkpoints.RunDirError, match="already holds checkpoints"):
        released.import_checkpoint(set_prediction[0], model_dir)
    assert sorted(os.listdir(model_dir)) == before
    # A folder holding the same run's config alone (an import stopped before its checkpoint)
    # is completed.
    same = tmp_path / "same"
    same.mkdir()
    shutil.copy(os.path.join(model_dir, "config.json"), same / "config.json")
    released.import_checkpoint(imported_object_discovery["checkpoint"], str(same))
    assert tf.train.latest_checkpoint(str(same)).endswith("ckpt-500000")


def test_import_from_and_into_another_file_system(tmp_path, set_prediction):
    source = f"ram://released-{uuid.uuid4().hex}"
    tf.io.gfile.makedirs(source)
    for name in os.listdir(set_prediction[0]):
        tf.io.gfile.copy(os.path.join(set_prediction[0], name), f"{source}/{name}")
    model_dir = f"ram://run-{uuid.uuid4().hex}"
    result = released.import_checkpoint(source, model_dir)
    assert result["checkpoint"] == f"{source}/ckpt-150"
    _, config, step = checkpoints.restore_model(model_dir, compute_dtype="float32")
    assert (step, config.task) == (150_000, SET_PREDICTION)


def test_script_errors_are_one_line(tmp_path, set_prediction):
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(tiny_config().to_json())
    truncated = tmp_path / "truncated"
    shutil.copytree(set_prediction[0], truncated)
    (truncated / "ckpt-150.index").write_bytes(b"garbage")
    cases = ((f"--checkpoint={tmp_path / 'missing'}", f"--model_dir={tmp_path / 'a'}"),
             (f"--checkpoint={truncated}", f"--model_dir={tmp_path / 'b'}"),
             (f"--checkpoint={set_prediction[0]}", f"--model_dir={other}"))
    for args in cases:
        proc = run_script("import_checkpoint.py", *args)
        lines = [line for line in proc.stderr.splitlines() if line and not TF_NOISE.match(line)]
        assert proc.returncode == 1 and len(lines) == 1, proc.stderr
        assert lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_import_export_predict_a_320x480_picture(tmp_path, object_discovery):
    proc = run_script("import_checkpoint.py", f"--checkpoint={object_discovery[0]}",
                      f"--model_dir={tmp_path / 'run'}")
    assert proc.returncode == 0, proc.stderr
    assert "object_discovery, step 500000, 7 slots, 128x128) with Adam state" in proc.stdout
    export_dir = tmp_path / "export"
    proc = run_script("export.py", f"--model_dir={tmp_path / 'run'}",
                      f"--export_dir={export_dir}")
    assert proc.returncode == 0, proc.stderr
    metadata = json.loads((export_dir / "keras_slots.json").read_text())
    assert metadata["preprocessing"]["crop"] == CROP
    assert metadata["preprocessing"]["source_size"] == [320, 480]
    rng = np.random.default_rng(0)
    for name, size in (("tfds.png", (320, 480)), ("other.png", (240, 320))):
        picture = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        tf.io.write_file(str(tmp_path / "pictures" / name), tf.io.encode_png(picture))
    proc = run_script("predict.py", f"--saved_model={export_dir}",
                      f"--images={tmp_path / 'pictures'}", f"--output_dir={tmp_path / 'out'}")
    assert proc.returncode == 0, proc.stderr
    assert ("tfds.png: cropped rows 29:221, columns 64:256 as in training; resized 192x192 "
            "to 128x128") in proc.stderr
    assert "other.png: resized 320x240 to 128x128" in proc.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [len(i["slot_pixel_fraction"]) for i in summary["images"]] == [7, 7]


@pytest.mark.slow
def test_set_prediction_run_fine_tunes_exports_and_predicts(tmp_path, set_prediction):
    proc = run_script("import_checkpoint.py", f"--checkpoint={set_prediction[0]}",
                      f"--model_dir={tmp_path / 'run'}", "--num_slots=10")
    assert proc.returncode == 0, proc.stderr
    proc = run_script("train.py", "--preset=clevr_set_prediction",
                      f"--model_dir={tmp_path / 'run'}", "--allow_config_change",
                      "--num_steps=150001", "--batch_size=2", "--eval_examples=0",
                      "--precision=float32", "--log_every=1")
    assert proc.returncode == 0, proc.stderr
    assert "done: step 150001" in proc.stderr
    proc = run_script("export.py", f"--model_dir={tmp_path / 'run'}",
                      f"--export_dir={tmp_path / 'export'}")
    assert proc.returncode == 0, proc.stderr
    picture = np.random.default_rng(0).integers(0, 256, (320, 480, 3), dtype=np.uint8)
    tf.io.write_file(str(tmp_path / "scene.png"), tf.io.encode_png(picture))
    proc = run_script("predict.py", f"--saved_model={tmp_path / 'export'}",
                      f"--images={tmp_path / 'scene.png'}", f"--output_dir={tmp_path / 'out'}",
                      "--min_score=0")
    assert proc.returncode == 0, proc.stderr
    assert "resized 480x320 to 128x128 (the whole frame, bilinear) as in training" in proc.stderr
