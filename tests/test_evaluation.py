"""evaluate(): per-image metrics of a model on a dataset, repeatable under a seed."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_slots import evaluation, metrics
from keras_slots.config import get_preset
from keras_slots.data import get_dataset
from keras_slots.models import SlotAttentionAutoEncoder


def _model():
    config = dataclasses.replace(get_preset("tetrominoes").model, encoder_channels=(8, 8),
                                 decoder_channels=(8,), decoder_strides=(1,), slot_size=16, mlp_hidden_size=16)
    return SlotAttentionAutoEncoder.from_model_config(config)


def test_evaluate_scores_each_image_and_is_repeatable():
    model = _model()
    dataset = get_dataset("tetrominoes", "test", num_examples=6)
    first = evaluation.evaluate(model, dataset, batch_size=4, seed=1, keep_images=2)
    second = evaluation.evaluate(model, dataset, batch_size=4, seed=1)
    for name in evaluation.METRICS:
        assert first[name].shape == (6,)
        np.testing.assert_array_equal(first[name], second[name])
    assert first["images"].shape == (2, 35, 35, 3) and first["outputs"]["masks"].shape[0] == 2

    # Independent recomputation of image 5 (second batch, seed (1, 1)).
    batch = next(iter(dataset.skip(4).batch(2)))
    out = model(batch["image"], seed=tf.constant([1, 1]))
    true_ids = metrics.masks_to_ids(batch["mask"].numpy())
    pred_ids = metrics.masks_to_ids(out["masks"].numpy())
    fg, _ = metrics.fg_ari(true_ids, pred_ids)
    np.testing.assert_allclose(first["fg_ari"][4:], fg, atol=1e-12)

    table = evaluation.summary_table(first)
    assert table["num_images"] == 6 and table["fg_ari"]["n"] == 6
    np.testing.assert_allclose(table["ari"]["mean"], first["ari"].mean())
    assert "| FG-ARI |" in evaluation.markdown(table)
