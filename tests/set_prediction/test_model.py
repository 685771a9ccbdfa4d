"""Set-prediction head and model: shapes, pinned sizes, serialisation, a training step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_slots.layers.set_prediction_head import SetPredictionHead
from keras_slots.models.set_prediction import SlotAttentionSetPredictor
from keras_slots.set_prediction import loss

SMALL = dict(resolution=(16, 16), num_slots=4, slot_size=16, mlp_hidden_size=32,
             encoder_channels=(8, 8, 8, 8), encoder_mlp_size=16, head_hidden_size=16)
SEED = tf.constant([1, 2], tf.int32)


def test_head_is_a_per_slot_sigmoid_mlp():
    head = SetPredictionHead(hidden_size=8, output_size=19)
    slots = np.random.default_rng(0).normal(size=(2, 5, 12)).astype("float32")
    out = head(slots).numpy()
    assert out.shape == (2, 5, 19) and out.dtype == np.float32
    hidden = np.maximum(slots @ head.hidden.kernel.numpy() + head.hidden.bias.numpy(), 0)
    expected = 1 / (1 + np.exp(-(hidden @ head.out.kernel.numpy() + head.out.bias.numpy())))
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    # Slot by slot: changing one slot changes only its own row.
    changed = slots.copy()
    changed[:, 2] += 1.0
    np.testing.assert_array_equal(head(changed).numpy()[:, [0, 1, 3, 4]], out[:, [0, 1, 3, 4]])
    assert len(head.trainable_weights) == 4
    clone = SetPredictionHead.from_config(head.get_config())
    assert clone.get_config() == head.get_config()


def test_paper_model_shapes_and_size():
    model = SlotAttentionSetPredictor()
    out = model(np.zeros((2, 128, 128, 3), "float32"), seed=SEED)
    assert out["pred"].shape == (2, 10, 19)
    assert out["slots"].shape == (2, 10, 64)
    assert out["attn"].shape == (2, 10, 32 * 32)  # features at 32x32
    assert np.all((out["pred"].numpy() > 0) & (out["pred"].numpy() < 1))
    np.testing.assert_allclose(out["attn"].numpy().sum(axis=1), 1.0, rtol=1e-5)
    # encoder 16 + slot attention 18 + head 4 weights; parameters counted by hand:
    # encoder 321,024, slot attention 54,336, head 5,395.
    assert len(model.trainable_weights) == 38
    assert model.count_params() == 380_755
    with pytest.raises(ValueError, match="expected images of shape"):
        model(np.zeros((1, 64, 64, 3), "float32"))


def test_keras_file_round_trip(tmp_path):
    model = SlotAttentionSetPredictor(**SMALL, seed=3)
    images = np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    expected = model(images, seed=SEED)["pred"].numpy()
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SlotAttentionSetPredictor)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded(images, seed=SEED)["pred"].numpy(), expected, atol=1e-6)
    assert SlotAttentionSetPredictor.from_config(model.get_config()).num_slots == 4


def test_training_step_reduces_the_loss_and_reaches_every_weight():
    model = SlotAttentionSetPredictor(**SMALL, seed=0)
    rng = np.random.default_rng(2)
    images = rng.uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    target = np.zeros((4, 4, 19), "float32")
    target[:, :2] = rng.uniform(0, 1, (4, 2, 19)).round()
    target[:, :2, 18] = 1.0
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function
    def step(images, target):
        with tf.GradientTape() as tape:
            pred = model(images, seed=SEED)["pred"]
            value = tf.reduce_mean(loss.hungarian_huber_loss(target, pred))
        grads = tape.gradient(value, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return value, grads

    first, grads = step(images, target)
    assert all(g is not None and np.any(g.numpy() != 0) for g in grads)
    for _ in range(20):
        last, _ = step(images, target)
    assert np.isfinite(last.numpy()) and last.numpy() < first.numpy()


def test_mixed_precision_outputs_float32_probabilities():
    model = SlotAttentionSetPredictor(**SMALL, dtype="mixed_bfloat16")
    out = model(np.zeros((2, 16, 16, 3), "float32"), seed=SEED)
    assert model.head.compute_dtype == "bfloat16"
    assert out["pred"].dtype == tf.float32 and out["slots"].dtype == tf.float32
    assert np.all((out["pred"].numpy() > 0) & (out["pred"].numpy() < 1))
