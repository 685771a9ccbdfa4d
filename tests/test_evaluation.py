"""evaluate(): per-image metrics of a model on a dataset, repeatable under a seed."""

import dataclasses

import numpy as np
from sklearn.metrics import adjusted_rand_score
import tensorflow as tf

from keras_slots import evaluation, metrics
from keras_slots.config import get_preset
from keras_slots.data import get_dataset
from keras_slots.models import create_model


def _model():
    config = dataclasses.replace(get_preset("tetrominoes").model, encoder_channels=(8, 8),
                                 decoder_channels=(8,), decoder_strides=(1,), slot_size=16, mlp_hidden_size=16)
    return create_model(config)


def test_evaluate_scores_each_image_and_is_repeatable():
    model = _model()
    dataset = get_dataset("tetrominoes", "test", num_examples=6)
    first = evaluation.evaluate(model, dataset, batch_size=4, seed=1, keep_images=2)
    second = evaluation.evaluate(model, dataset, batch_size=4, seed=1)
    for name in evaluation.METRICS:
        assert first[name].shape == (6,)
        np.testing.assert_array_equal(first[name], second[name])
    assert first["images"].shape == (2, 35, 35, 3) and first["outputs"]["masks"].shape[0] == 2

    # Independent recomputation of images 5 and 6 (second batch, seed (1, 1)):
    # scikit-learn's ARI on the pixels whose ground truth is not the background (mask 0).
    batch = next(iter(dataset.skip(4).batch(2)))
    out = model(batch["image"], seed=tf.constant([1, 1]))
    true = batch["mask"].numpy()[..., 0].argmax(axis=1).reshape(2, -1)  # [2, H*W]
    pred = out["masks"].numpy()[..., 0].argmax(axis=1).reshape(2, -1)  # [2, H*W]
    expected = [adjusted_rand_score(t[t > 0], p[t > 0]) for t, p in zip(true, pred)]
    np.testing.assert_allclose(first["fg_ari"][4:], expected, atol=1e-9)
    expected_ari = [adjusted_rand_score(t, p) for t, p in zip(true, pred)]
    np.testing.assert_allclose(first["ari"][4:], expected_ari, atol=1e-9)

    table = evaluation.summary_table(first)
    assert table["num_images"] == 6 and table["fg_ari"]["n"] == 6
    np.testing.assert_allclose(table["ari"]["mean"], first["ari"].mean())
    assert "| FG-ARI |" in evaluation.markdown(table)


def test_objects_room_ignores_every_background_mask_and_reports_mask0_variant():
    config = dataclasses.replace(get_preset("objects_room").model, encoder_channels=(8,),
                                 decoder_channels=(8,), decoder_strides=(1,), slot_size=16,
                                 mlp_hidden_size=16)
    model = create_model(config)
    dataset = get_dataset("objects_room", "test", num_examples=3)
    results = evaluation.evaluate(model, dataset, batch_size=3, seed=2, num_background=4)
    batch = next(iter(dataset.batch(3)))
    out = model(batch["image"], seed=tf.constant([2, 0]))
    true_ids = metrics.masks_to_ids(batch["mask"].numpy())
    pred_ids = metrics.masks_to_ids(out["masks"].numpy())
    for suffix, background in (("", 4), ("_bg0", 1)):
        fg, _ = metrics.fg_ari(true_ids, pred_ids, num_background=background)
        np.testing.assert_allclose(results[f"fg_ari{suffix}"], fg, atol=1e-12)
        np.testing.assert_allclose(results[f"mbo{suffix}"],
                                   metrics.mean_best_overlap(true_ids, pred_ids, background))
        np.testing.assert_allclose(results[f"miou{suffix}"],
                                   metrics.miou_matched(true_ids, pred_ids, background))
    # Floor and walls count as objects in the mask-0-only variant, so the two differ.
    assert not np.allclose(results["fg_ari"], results["fg_ari_bg0"])
    table = evaluation.summary_table(results)
    assert {"fg_ari_bg0", "mbo_bg0", "miou_bg0"} <= set(table)
    text = evaluation.markdown(table)
    assert "| FG-ARI-BG0 |" in text and "mask 0 only" in text
    rows = evaluation.per_image_rows(results)
    assert len(rows) == 3 and rows[2]["fg_ari_bg0"] == results["fg_ari_bg0"][2]


def test_summary_labels_the_spread_as_over_images_not_seeds():
    results = {name: np.array([0.5, 0.7]) for name in evaluation.METRICS}
    table = evaluation.summary_table(results)
    assert "not over training seeds" in table["spread"]
    assert "std over images" in evaluation.markdown(table)
    assert "fg_ari_bg0" not in table
