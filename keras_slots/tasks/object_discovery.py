"""Object discovery: reconstruct images through slots; scored by FG-ARI of the slot masks."""

from absl import logging
import numpy as np
import tensorflow as tf

from keras_slots import data as data_lib
from keras_slots import diagnostics
from keras_slots import metrics
from keras_slots.models import create_model
from keras_slots.tasks.base import Task, seeded_predict
from keras_slots.visualize import slot_grid

PREVIEW_IMAGES = 4  # Training images shown in every image summary.
DIAGNOSTIC_IMAGES = 32  # Training images the diagnostics (keras_slots.diagnostics) average.


def reconstruction_loss(images, recon):
    """Per-example mean squared error. images, recon: [B, H, W, 3]. Returns [B]."""
    return tf.reduce_mean(tf.square(tf.cast(recon, tf.float32) - images), axis=[1, 2, 3])


class ObjectDiscovery(Task):
    """The paper's object discovery task on the autoencoder of `models.create_model`.

    A step reads the images; the loss is the reconstruction's mean squared error; every
    `eval_every` steps the loop logs FG-ARI of the first `eval_examples` test scenes; the
    image summary shows the first 4 training images, their reconstructions, segmentations
    and per-slot images, next to the diagnostics (diag/slot_usage_max, diag/mask_entropy,
    diag/slot_similarity) of the first 32. Predictions for all use the slot noise seed
    (seed, 0).
    """

    def build_model(self, model_config, compute_dtype="float32", seed=None):
        return create_model(model_config, compute_dtype, seed=seed)

    def features(self, elements):
        return {"image": elements["image"]}  # [B, H, W, 3]

    def loss(self, model, features, slot_noise):
        images = features["image"]  # [B, H, W, 3]
        out = model(images, slot_noise=slot_noise, training=True)
        return reconstruction_loss(images, out["recon"])  # [B]

    def make_evaluation(self, model, train_config, data_dir=None):
        batch = _eval_batch(train_config, data_dir)
        if batch is None:
            return None
        images, true_ids, num_background = batch
        predict = seeded_predict(model, train_config.seed)

        def evaluate():
            pred_ids = metrics.masks_to_ids(predict(images)["masks"].numpy())  # [E, H*W]
            scores, _ = metrics.fg_ari(true_ids, pred_ids, num_background=num_background)
            return {"fg_ari": float(np.mean(scores))}

        return evaluate

    def make_summaries(self, model, train_config, data_dir=None):
        # Up to 32 images: a file's train split may hold fewer.
        images = next(iter(data_lib.get_dataset(
            train_config.dataset, "train", data_dir=data_dir, seed=train_config.seed,
        ).take(DIAGNOSTIC_IMAGES).batch(DIAGNOSTIC_IMAGES)))["image"]  # [N, H, W, 3]
        predict = seeded_predict(model, train_config.seed)

        def write():
            outputs = {k: v.numpy() for k, v in predict(images).items()}
            for tag, value in diagnostics.summary(outputs).items():
                tf.summary.scalar(tag, value)
            preview = {k: v[:PREVIEW_IMAGES] for k, v in outputs.items()}
            grid = slot_grid(images.numpy()[:PREVIEW_IMAGES], preview, scale=2)  # [h, w, 3]
            tf.summary.image("slots", grid[None].astype(np.float32) / 255.0)

        return write


def _eval_batch(train_config, data_dir):
    """The fixed evaluation batch: the first `eval_examples` test scenes, or None if disabled.

    Returns:
        (images [E, H, W, 3], ground-truth ids [E, H*W], number of background masks) or
        None.
    """
    tc = train_config
    if tc.eval_every <= 0 or tc.eval_examples <= 0:
        return None
    try:
        batch = next(iter(data_lib.get_dataset(
            tc.dataset, "test", data_dir=data_dir, seed=tc.seed,
            num_examples=tc.eval_examples).batch(tc.eval_examples)))
    except (ValueError, StopIteration, tf.errors.OpError) as e:
        logging.warning("no FG-ARI evaluation while training: the %s test split has fewer "
                        "than %d scenes (%s)", tc.dataset, tc.eval_examples,
                        str(e).splitlines()[0] if str(e) else type(e).__name__)
        return None
    if "mask" not in batch:  # An image folder without ground truth.
        logging.info("no FG-ARI evaluation while training: %s has no masks", tc.dataset)
        return None
    background = data_lib.catalog.get(tc.dataset).num_background
    return batch["image"], metrics.masks_to_ids(batch["mask"].numpy()), background
