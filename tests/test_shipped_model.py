"""The pretrained model committed in saved_models/tetrominoes works straight after install."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_slots import data, metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "saved_models", "tetrominoes")


@pytest.fixture(scope="module")
def shipped():
    return tf.saved_model.load(SHIPPED)


def test_shipped_model_segments_the_builtin_test_split(shipped):
    meta = json.loads(shipped.metadata().numpy())
    seed = meta["config"]["train"]["seed"]
    dataset = data.get_dataset("tetrominoes", "test", seed=seed, num_examples=320).batch(64)
    scores = []
    for batch in dataset:
        images = tf.cast(tf.round((batch["image"] + 1.0) * 127.5), tf.uint8)  # [B, 35, 35, 3]
        seg = shipped.signatures["serving_default"](images=images)["segmentation"].numpy()
        true_ids = metrics.masks_to_ids(batch["mask"].numpy())  # [B, H*W]
        ari, _ = metrics.ari(true_ids, seg.reshape(len(seg), -1), ignore_background=True)
        scores.append(ari)
    fg_ari = float(np.mean(np.concatenate(scores)))
    stated = json.load(open(os.path.join(SHIPPED, "metrics.json")))["fg_ari"]["mean"]
    assert fg_ari >= MIN_FG_ARI, fg_ari
    assert abs(fg_ari - stated) < 0.01, (fg_ari, stated)  # the README's number is this one
