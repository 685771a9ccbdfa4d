"""Set prediction: predict every CLEVR object's properties; scored by average precision."""

from absl import logging
import numpy as np
import tensorflow as tf

from keras_slots import metrics
from keras_slots.models import create_set_predictor
from keras_slots.set_prediction import drawing, sources
from keras_slots.set_prediction.loss import hungarian_huber_loss
from keras_slots.tasks.base import Task, seeded_predict

PREVIEW_IMAGES = 4  # Training images drawn with their predictions in every image summary.
TRAINING_AP_THRESHOLDS = {"ap_inf": np.inf, "ap_1": 1.0}  # Logged while training.


class SetPrediction(Task):
    """The paper's CLEVR property prediction on `models.create_set_predictor`.

    A step reads images and 19-number target sets (`set_prediction.sources`: the built-in
    renderer, the CLEVR v1 files or TFDS clevr:3.1.0, by data_dir); the loss is the summed
    Huber cost of the Hungarian-matched (target, slot) pairs, computed inside the compiled
    step. Every `eval_every` steps the loop logs AP at distance inf and 1 on the first
    `eval_examples` test scenes; the image summary draws the predictions for the first 4
    training images. Predictions for both use the slot noise seed (seed, 0).
    """

    def build_model(self, model_config, compute_dtype="float32", seed=None):
        return create_set_predictor(model_config, compute_dtype, seed=seed)

    def train_stream(self, config, data_dir, start_position):
        return sources.get_train_stream(data_dir, seed=config.train.seed,
                                        start_position=start_position,
                                        shuffle=config.train.shuffle,
                                        resolution=config.model.resolution)

    def features(self, elements):
        return {"image": elements["image"],  # [B, H, W, 3]
                "target": elements["target"]}  # [B, T, 19]

    def loss(self, model, features, slot_noise):
        pred = model(features["image"], slot_noise=slot_noise, training=True)["pred"]
        return hungarian_huber_loss(features["target"], pred)  # [B]

    def make_evaluation(self, model, train_config, data_dir=None):
        batch = _eval_batch(train_config, data_dir, model.resolution)
        if batch is None:
            return None
        images, target = batch
        predict = seeded_predict(model, train_config.seed)

        def evaluate():
            pred = predict(images)["pred"].numpy()  # [E, K, 19]
            return {name: metrics.average_precision(pred, target, threshold)
                    for name, threshold in TRAINING_AP_THRESHOLDS.items()}

        return evaluate

    def make_summaries(self, model, train_config, data_dir=None):
        preview = next(iter(sources.get_dataset(
            "train", data_dir, seed=train_config.seed, num_examples=PREVIEW_IMAGES,
            resolution=model.resolution).batch(PREVIEW_IMAGES)))
        predict = seeded_predict(model, train_config.seed)
        aspect = drawing.frame_aspect(data_dir)

        def write():
            pred = predict(preview["image"])["pred"].numpy()  # [4, K, 19]
            pictures = [drawing.draw_predictions(image, scene_pred, scene_target,
                                                 frame_aspect=aspect)
                        for image, scene_pred, scene_target in
                        zip(preview["image"].numpy(), pred, preview["target"].numpy())]
            tf.summary.image("predictions", np.stack(pictures).astype(np.float32) / 255.0,
                             max_outputs=PREVIEW_IMAGES)

        return write


def _eval_batch(train_config, data_dir, resolution):
    """The fixed evaluation batch: the first `eval_examples` test scenes, or None.

    Returns:
        (images [E, H, W, 3], targets numpy [E, 10, 19]) or None when evaluation is off or
        the test split is too small.
    """
    tc = train_config
    if tc.eval_every <= 0 or tc.eval_examples <= 0:
        return None
    try:
        batch = next(iter(sources.get_dataset(
            "test", data_dir, seed=tc.seed, num_examples=tc.eval_examples,
            resolution=resolution).batch(tc.eval_examples, drop_remainder=True)))
    except (ValueError, StopIteration, tf.errors.OpError) as e:
        logging.warning("no AP evaluation while training: the test split has fewer than %d "
                        "scenes (%s)", tc.eval_examples,
                        str(e).splitlines()[0] if str(e) else type(e).__name__)
        return None
    return batch["image"], batch["target"].numpy()
