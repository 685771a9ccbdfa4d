"""Set prediction as a task: configs pick it, the unchanged loop trains it, runs restore."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_slots.config import PRESETS, Config, SetPredictionModelConfig, get_preset
from keras_slots.models import SlotAttentionSetPredictor
from keras_slots.tasks import ObjectDiscovery, SetPrediction, get_task
from keras_slots.training import checkpoints, loop

# A set-prediction model that trains a step on 32x32 renderer images in about a second.
TINY_SET_PREDICTION = {
    "model.resolution": (32, 32), "model.encoder_channels": (8, 8),
    "model.encoder_strides": (1, 2), "model.slot_size": 16, "model.mlp_hidden_size": 16,
    "model.encoder_mlp_size": 16, "model.head_hidden_size": 16, "train.batch_size": 4,
    "train.log_every": 1, "train.image_every": 2, "train.checkpoint_every": 2,
    "train.eval_every": 2, "train.eval_examples": 8, "train.precision": "float32",
    "train.warmup_steps": 1, "train.num_steps": 3,
}


def tiny_set_prediction(**changes):
    return get_preset("clevr_set_prediction_cpu").override(**{**TINY_SET_PREDICTION,
                                                               **changes})


def test_paper_preset():
    config = get_preset("clevr_set_prediction")
    assert config.task == "set_prediction"
    assert config.model == SetPredictionModelConfig(
        resolution=(128, 128), num_slots=10, slot_size=64, num_iterations=3,
        encoder_channels=(64,) * 4, encoder_strides=(1, 2, 2, 1), head_hidden_size=64)
    t = config.train
    assert (t.batch_size, t.num_steps, t.learning_rate, t.warmup_steps, t.decay_rate,
            t.decay_steps) == (512, 150_000, 4e-4, 1000, 0.5, 50_000)


def test_configs_without_a_task_load_as_object_discovery():
    saved = json.loads(get_preset("tetrominoes").to_json())
    del saved["task"]
    config = Config.from_json(json.dumps(saved))
    assert config.task == "object_discovery" and config == get_preset("tetrominoes")
    assert isinstance(get_task(config.task), ObjectDiscovery)


@pytest.mark.parametrize("name", sorted(n for n, c in PRESETS.items()
                                         if c.task == "set_prediction"))
def test_set_prediction_configs_round_trip_and_check_their_fields(name):
    config = get_preset(name)
    assert Config.from_json(config.to_json()) == config
    assert isinstance(get_task(config.task), SetPrediction)
    with pytest.raises(ValueError, match="unknown config field 'model.decoder_channels'"):
        config.override(**{"model.decoder_channels": (8,)})
    with pytest.raises(ValueError, match="encoder_strides .* differ in length"):
        config.override(**{"model.encoder_strides": (1, 2)})
    other = config.override(**{"model.head_hidden_size": 32})
    assert other.differences(config) == ["model.head_hidden_size: 64 != 32"]
    assert get_preset("tetrominoes").differences(config) == [
        "task: 'set_prediction' != 'object_discovery'"]


def test_a_task_with_the_wrong_model_section_is_refused():
    with pytest.raises(ValueError, match="needs a SetPredictionModelConfig"):
        Config(name="x", model=get_preset("tetrominoes").model,
               train=get_preset("tetrominoes").train, task="set_prediction")
    saved = json.loads(get_preset("tetrominoes").to_json())
    saved["task"] = "captioning"
    with pytest.raises(ValueError, match="unknown task 'captioning'"):
        Config.from_json(json.dumps(saved))


def test_loop_trains_resumes_and_restores_a_set_predictor(tmp_path):
    config = tiny_set_prediction()
    result = loop.train(config, str(tmp_path))  # The task comes from config.task.
    assert result["step"] == 3 and len(result["losses"]) == 3
    assert all(np.isfinite(result["losses"]))
    # Huber cost of ten matched rows, each averaged over 19 numbers: well below 10.
    assert 0 < result["losses"][0] < 10
    assert [e["step"] for e in result["evals"]] == [2, 3]
    assert all(0 <= e["ap_inf"] <= 1 and 0 <= e["ap_1"] <= e["ap_inf"]
               for e in result["evals"])
    resumed = loop.train(config.override(**{"train.num_steps": 4}), str(tmp_path))
    assert resumed["step"] == 4 and len(resumed["losses"]) == 1
    model, saved, step = checkpoints.restore_model(str(tmp_path))
    assert isinstance(model, SlotAttentionSetPredictor) and step == 4
    assert saved == config.override(**{"train.num_steps": 4}) or saved == config
    pred = model(np.zeros((2, 32, 32, 3), "float32"), seed=tf.constant([0, 0]))["pred"]
    assert pred.shape == (2, 10, 19)
    summaries = tf.io.gfile.glob(str(tmp_path / "train" / "events.*"))
    tags = set()
    for path in summaries:
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    assert {"loss", "eval/ap_inf", "predictions"} <= tags


def test_the_loss_trains_through_the_matched_pairs():
    """Within the compiled step, gradients reach the model and lower the matched loss."""
    config = tiny_set_prediction()
    task = SetPrediction()
    model = task.build_model(config.model, seed=0)
    stream = task.train_stream(config, None, 0)
    assert [int(e["position"]) for e in stream.take(3)] == [0, 1, 2]
    batch = task.features(next(iter(stream.batch(4))))
    noise = tf.random.stateless_normal([4, 10, 16], seed=[0, 1])
    optimizer = tf.keras.optimizers.Adam(1e-2)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(task.loss(model, batch, noise))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss, tf.reduce_sum([tf.reduce_sum(tf.abs(g)) for g in grads])

    first, norm = step()
    assert norm > 0
    for _ in range(20):
        last, _ = step()
    assert last < 0.7 * first
