"""The autoencoder: presets, masks, gradients, batch sizes, saving."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_slots.config import PRESETS, get_preset
from keras_slots.models import SlotAttentionAutoEncoder, create_model

SEED = tf.constant([3, 4])


def _small_model_config(**changes):
    return dataclasses.replace(get_preset("tetrominoes").model, **changes)


def _small_model(**changes):
    config = _small_model_config(**changes)
    return create_model(config)


def _images(batch, size=35, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(batch, size, size, 3)).astype("float32")


@pytest.mark.parametrize("name", sorted(name for name, preset in PRESETS.items()
                                         if preset.task == "object_discovery"))
def test_preset_output_shapes(name):
    config = get_preset(name).model
    model = create_model(config)
    h, w = config.resolution
    out = model(np.zeros((1, h, w, 3), "float32"), seed=SEED)
    k, d = config.num_slots, config.slot_size
    n = h * w  # stride-1 encoders keep the resolution
    assert out["recon"].shape == (1, h, w, 3)
    assert out["recons"].shape == (1, k, h, w, 3)
    assert out["masks"].shape == (1, k, h, w, 1)
    assert out["slots"].shape == (1, k, d)
    assert out["attn"].shape == (1, k, n)
    np.testing.assert_allclose(tf.reduce_sum(out["masks"], axis=1).numpy(), 1.0, atol=1e-5)


def test_paper_parameter_count_for_small_images():
    model = _small_model()
    model(_images(1), seed=SEED)
    assert model.count_params() == 244_132  # the paper's Tetrominoes / Multi-dSprites model
    assert len(model.trainable_weights) == 16 + 18 + 10  # encoder, slot attention, decoder


def test_recon_is_mask_weighted_sum():
    out = _small_model()(_images(2), seed=SEED)
    expected = tf.reduce_sum(out["masks"] * out["recons"], axis=1)
    np.testing.assert_allclose(out["recon"].numpy(), expected.numpy(), atol=1e-5)


def test_every_trainable_variable_gets_nonzero_gradient():
    model = _small_model()
    images = _images(2)
    with tf.GradientTape() as tape:
        out = model(images, seed=SEED)
        loss = tf.reduce_mean(tf.square(out["recon"] - images))
    grads = tape.gradient(loss, model.trainable_variables)
    missing = [v.path for v, g in zip(model.trainable_variables, grads)
               if g is None or not np.abs(g.numpy()).max() > 0]
    assert not missing


@pytest.mark.parametrize("batch", [1, 3, 5])
def test_any_batch_size_in_one_traced_function(batch):
    model = _small_model()
    fn = tf.function(lambda x: model(x, seed=SEED)["recon"],
                     input_signature=[tf.TensorSpec([None, 35, 35, 3], tf.float32)])
    assert fn(_images(batch)).shape == (batch, 35, 35, 3)


def test_more_slots_and_iterations_at_test_time():
    out = _small_model()(_images(2), num_slots=6, num_iterations=5, seed=SEED)
    assert out["masks"].shape == (2, 6, 35, 35, 1)
    assert out["attn_iterations"].shape == (2, 5, 6, 35 * 35)


def test_same_seed_same_output_and_different_seed_differs():
    model = _small_model()
    a = model(_images(2), seed=SEED)["recon"].numpy()
    b = model(_images(2), seed=SEED)["recon"].numpy()
    c = model(_images(2), seed=tf.constant([9, 9]))["recon"].numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0


def test_config_round_trip_and_keras_file_give_identical_outputs(tmp_path):
    model = _small_model(implicit_grad=True)
    expected = model(_images(2), seed=SEED)
    clone = SlotAttentionAutoEncoder.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    got = loaded(_images(2), seed=SEED)
    for key in ("recon", "masks", "slots", "attn"):
        np.testing.assert_array_equal(got[key].numpy(), expected[key].numpy())


def test_wrong_image_size_and_impossible_resolution_are_rejected():
    model = _small_model()
    with pytest.raises(ValueError, match=r"expected images of shape \[B, 35, 35, 3\]"):
        model(np.zeros((1, 36, 35, 3), "float32"))
    with pytest.raises(ValueError, match="the decoder produces"):
        _small_model(resolution=(64, 64))


def test_slot_mlp_baseline_runs_and_has_no_attention_output():
    model = _small_model(slot_encoder="slot_mlp")
    out = model(_images(2), seed=SEED)
    assert out["masks"].shape == (2, 4, 35, 35, 1)
    assert "attn" not in out and "attn_iterations" not in out
    assert model.num_iterations is None
    with pytest.raises(ValueError, match="does not iterate"):
        model(_images(2), num_iterations=2)


def test_model_keras_file_written_before_layers_were_arguments_is_refused(tmp_path):
    """An old model.keras holds ModelConfig fields as the model config (no shipped file does):
    loading it says so in one line instead of failing inside Keras."""
    import json
    import zipfile

    model = _small_model(implicit_grad=True)
    expected = model(_images(2), seed=SEED)["masks"].numpy()
    new_path, old_path = str(tmp_path / "new.keras"), str(tmp_path / "old.keras")
    model.save(new_path)
    old_config = dict(dataclasses.asdict(_small_model_config(implicit_grad=True)), seed=None,
                      name=model.name, trainable=True,
                      dtype=keras.dtype_policies.serialize(model.dtype_policy))
    with zipfile.ZipFile(new_path) as src, zipfile.ZipFile(old_path, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "config.json":
                saved = json.loads(data)
                assert "encoder_channels" not in saved["config"]
                saved["config"] = json.loads(json.dumps(old_config))  # tuples -> lists
                data = json.dumps(saved).encode()
            dst.writestr(item, data)
    with pytest.raises(ValueError, match="older keras_slots"):
        keras.saving.load_model(old_path)
    loaded = keras.saving.load_model(new_path)
    np.testing.assert_array_equal(loaded(_images(2), seed=SEED)["masks"].numpy(), expected)


@pytest.mark.parametrize("slot_encoder", ["slot_attention", "slot_mlp"])
def test_tf_checkpoint_restores_every_weight(tmp_path, slot_encoder):
    model = _small_model(slot_encoder=slot_encoder)
    model(_images(1), seed=SEED)
    path = tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
    saved = tf.train.load_checkpoint(path).get_variable_to_shape_map()
    assert sum(1 for name in saved if name.startswith("model/")) == len(model.weights)
    other = _small_model(slot_encoder=slot_encoder)
    other(_images(1), seed=SEED)
    tf.train.Checkpoint(model=other).read(path).assert_existing_objects_matched()
    for a, b in zip(model.weights, other.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
