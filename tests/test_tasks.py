"""Tasks plug into the training loop without touching it: features, loss, evaluation."""

import os

import numpy as np
import tensorflow as tf

from keras_slots import visualize
from keras_slots.tasks import ObjectDiscovery, Task
from keras_slots.tasks.object_discovery import reconstruction_loss
from keras_slots.training import loop
from tests.conftest import tiny_config


class _MaskedL1(ObjectDiscovery):
    """A second task: features carry an extra target, the loss is an L1 on it, and the
    evaluation reports a metric of its own name."""

    def features(self, elements):
        foreground = tf.cast(elements["mask"][:, 0] == 0, tf.float32)  # [B, H, W, 1]
        return {"image": elements["image"], "weight": foreground}

    def loss(self, model, features, slot_noise):
        out = model(features["image"], slot_noise=slot_noise, training=True)
        error = tf.abs(out["recon"] - features["image"]) * features["weight"]
        return tf.reduce_mean(error, axis=[1, 2, 3])  # [B]

    def make_evaluation(self, model, train_config, data_dir=None):
        return lambda: {"weights_sum": float(sum(np.sum(w.numpy()) for w in model.weights))}

    def make_summaries(self, model, train_config, data_dir=None):
        return None


def test_a_new_task_trains_through_the_unchanged_loop(tmp_path):
    config = tiny_config(**{"train.num_steps": 2, "train.eval_every": 1,
                            "train.warmup_steps": 0})
    result = loop.train(config, str(tmp_path / "run"), task=_MaskedL1())
    assert result["step"] == 2 and [e["step"] for e in result["evals"]] == [1, 2]
    assert set(result["evals"][0]) == {"step", "time", "weights_sum"}
    # The loss is the task's: recompute step 1 (before any update) from the initial model.
    fresh = loop.set_up(config, str(tmp_path / "fresh"), task=_MaskedL1())
    features = next(fresh.iterator)
    noise = tf.random.stateless_normal([4, 4, 16], seed=[config.train.seed, 0])
    expected = float(tf.reduce_mean(_MaskedL1().loss(fresh.model, features, noise)))
    np.testing.assert_allclose(result["losses"][0], expected, rtol=1e-5)
    mse = float(tf.reduce_mean(reconstruction_loss(
        features["image"], fresh.model(features["image"], slot_noise=noise)["recon"])))
    assert abs(result["losses"][0] - mse) > 1e-4  # not the object discovery loss
    tags = set()
    for name in os.listdir(tmp_path / "run" / "train"):
        for event in tf.compat.v1.train.summary_iterator(str(tmp_path / "run" / "train" / name)):
            tags |= {v.tag for v in event.summary.value}
    assert "eval/weights_sum" in tags and "slots" not in tags


def test_the_base_task_names_what_a_task_must_provide():
    task = Task()
    for method, args in (("build_model", (None,)), ("features", ({},)),
                         ("loss", (None, {}, None))):
        try:
            getattr(task, method)(*args)
        except NotImplementedError:
            continue
        raise AssertionError(f"Task.{method} should raise NotImplementedError")
    assert task.make_evaluation(None, None) is None and task.make_summaries(None, None) is None


def test_image_report_of_a_model_without_attention():
    import dataclasses

    from keras_slots.config import get_preset
    from keras_slots.models import create_model

    images = np.zeros((1, 35, 35, 3), "float32")
    heights = {}
    for encoder in ("slot_mlp", "slot_attention"):
        model = create_model(dataclasses.replace(get_preset("tetrominoes").model,
                                                 slot_encoder=encoder))
        outputs = {k: v.numpy() for k, v in model(images).items()}
        heights[encoder] = visualize.image_report(images[0], outputs, scale=1).shape[0]
    # The same panels less one untitled row of 35-pixel attention maps per iteration (3).
    assert heights["slot_attention"] - heights["slot_mlp"] == 3 * (35 + 2)


def test_object_discovery_logs_the_diagnostics_beside_the_slot_picture(tmp_path):
    """Every image summary also writes diag/* scalars, equal to the diagnostics of the
    restored model's output on the same 32 training images."""
    from keras_slots import data, diagnostics
    from keras_slots.tasks import object_discovery

    config = tiny_config(**{"train.num_steps": 2, "train.image_every": 2})
    loop.train(config, str(tmp_path / "run"))
    scalars = {}
    for name in os.listdir(tmp_path / "run" / "train"):
        for event in tf.compat.v1.train.summary_iterator(str(tmp_path / "run" / "train" / name)):
            for v in event.summary.value:
                if v.tag.startswith("diag/"):
                    scalars[v.tag] = float(tf.make_ndarray(v.tensor))
    assert set(scalars) == set(diagnostics.TAGS)
    state = loop.set_up(config, str(tmp_path / "run"))  # restores step 2
    images = next(iter(data.get_dataset(
        config.train.dataset, "train", seed=config.train.seed,
        num_examples=object_discovery.DIAGNOSTIC_IMAGES).batch(32)))["image"]
    outputs = state.model(images, seed=tf.constant([config.train.seed, 0]))
    for tag, value in diagnostics.summary(outputs).items():
        np.testing.assert_allclose(scalars[tag], float(value), rtol=1e-4, atol=1e-6)
    assert 0.0 <= scalars["diag/mask_entropy"] <= np.log(config.model.num_slots) + 1e-6
