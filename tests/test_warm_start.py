"""--init_from: a run starts from another model's weights (other size and slot count too)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_slots.models import create_model
from keras_slots.models.factory import weights_by_path
from keras_slots.training import checkpoints, loop, warm_start
from tests.conftest import tiny_config


def _weights(model):
    return {key: w.numpy() for key, w in weights_by_path(model).items()}


def test_weights_move_to_another_resolution_and_slot_count(tmp_path):
    source = str(tmp_path / "source")
    loop.train(tiny_config(**{"train.num_steps": 2}), source)
    trained = _weights(checkpoints.restore_model(source, compute_dtype="float32")[0])
    bigger = tiny_config(**{"model.resolution": (24, 24),
                            "model.decoder_initial_resolution": (24, 24),
                            "model.num_slots": 6}).model
    model = create_model(bigger)
    assert warm_start.copy_weights(model, source) == len(model.weights) == len(trained)
    for key, value in _weights(model).items():
        np.testing.assert_array_equal(value, trained[key], err_msg=key)
    out = model(tf.zeros([1, 24, 24, 3]), seed=tf.constant([0, 0]))
    assert out["masks"].shape == (1, 6, 24, 24, 1)


def test_an_export_folder_and_a_keras_file_are_sources_too(tmp_path):
    model = create_model(tiny_config().model)
    model.save(str(tmp_path / "m.keras"))
    other = create_model(tiny_config().model, seed=1)
    for weight in other.weights:
        weight.assign(tf.zeros_like(weight))
    warm_start.copy_weights(other, str(tmp_path / "m.keras"))
    np.testing.assert_array_equal(other.weights[0].numpy(), model.weights[0].numpy())
    (tmp_path / "export").mkdir()
    model.save(str(tmp_path / "export" / "model.keras"))
    assert warm_start.copy_weights(other, str(tmp_path / "export")) == len(other.weights)


def test_another_architecture_or_path_is_named(tmp_path):
    model = create_model(tiny_config().model)
    model.save(str(tmp_path / "m.keras"))
    wider = create_model(tiny_config(**{"model.encoder_channels": (8, 16)}).model)
    before = _weights(wider)
    with pytest.raises(warm_start.WarmStartError, match=r"weight encoder/conv_1/kernel is "):
        warm_start.copy_weights(wider, str(tmp_path / "m.keras"))
    for key, value in _weights(wider).items():  # nothing was changed
        np.testing.assert_array_equal(value, before[key])
    with pytest.raises(warm_start.WarmStartError, match="neither a run folder"):
        warm_start.copy_weights(wider, str(tmp_path / "nothing"))


def test_the_run_reads_them_at_step_0_only(tmp_path):
    source, run = str(tmp_path / "source"), str(tmp_path / "run")
    loop.train(tiny_config(**{"train.num_steps": 2}), source)
    config = tiny_config(**{"train.num_steps": 2, "train.init_from": source,
                            "train.learning_rate": 1e-12})  # the weights barely move
    loop.train(config, run)
    started = _weights(checkpoints.restore_model(run, compute_dtype="float32")[0])
    trained = _weights(checkpoints.restore_model(source, compute_dtype="float32")[0])
    for key in trained:
        np.testing.assert_allclose(started[key], trained[key], atol=1e-6, err_msg=key)
    # Resuming reads the run's checkpoint, not the source: a changed source is not read.
    loop.train(tiny_config(**{"train.num_steps": 4}), source)
    loop.train(config.override(**{"train.num_steps": 3}), run)
    resumed = _weights(checkpoints.restore_model(run, compute_dtype="float32")[0])
    for key in trained:
        np.testing.assert_allclose(resumed[key], started[key], atol=1e-6, err_msg=key)
