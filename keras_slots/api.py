"""The Python entry point: `keras_slots.load(name_or_path)` and the model it returns.

Example:
    >>> import numpy as np
    >>> import keras_slots
    >>> model = keras_slots.load("tetrominoes")  # doctest: +SKIP
    >>> out = model.predict([np.zeros((35, 35, 3), np.uint8)])  # doctest: +SKIP
    >>> out["segmentation"].shape  # doctest: +SKIP
    (1, 35, 35)
"""

import json
import os

import numpy as np
import tensorflow as tf

from keras_slots import files
from keras_slots import images as images_lib
from keras_slots.config import SET_PREDICTION

# The shipped models: saved_models/<name> beside the package in a checkout.
PRESETS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "saved_models")


def load(name_or_path):
    """Loads a trained model for inference.

    Args:
        name_or_path: the name of a shipped model ("tetrominoes": saved_models/<name>), an
            export folder (scripts/export.py: keras_slots.json + model.keras) or a run
            folder (scripts/train.py: config.json + checkpoints, the latest is read); local
            or on any file system TensorFlow knows (gs://...).

    Returns:
        A `Pretrained` model.

    Raises:
        ValueError: naming the path when it is none of these.
    """
    path = _locate(name_or_path)
    from keras_slots.training import checkpoints

    if tf.io.gfile.exists(os.path.join(path, checkpoints.CONFIG_FILE)):
        model, config, step = checkpoints.restore_model(path, compute_dtype="float32")
        return Pretrained(model, run_metadata(config, step))
    import keras

    from keras_slots import export

    with tf.io.gfile.GFile(os.path.join(path, export.METADATA_FILE)) as f:
        metadata = json.load(f)
    keras_file = os.path.join(path, export.KERAS_FILE)
    if not tf.io.gfile.exists(keras_file):
        raise ValueError(f"{path} holds an export without {export.KERAS_FILE}: export it "
                         f"again with scripts/export.py")
    if not files.is_local(keras_file):  # Keras reads .keras archives from local disk.
        local = os.path.join(_scratch_dir(), export.KERAS_FILE)
        tf.io.gfile.copy(keras_file, local, overwrite=True)
        keras_file = local
    return Pretrained(keras.saving.load_model(keras_file), metadata)


def train(model_dir, preset="tetrominoes_cpu", **fields):
    """Trains a preset (or resumes the run in model_dir), as scripts/train.py does.

    Args:
        model_dir: the run folder (config, checkpoints, TensorBoard logs).
        preset: a name of keras_slots.config.PRESETS.
        **fields: config fields to change, by name (num_steps=300, batch_size=8,
            num_slots=5, ...: each a field of TrainConfig or of the preset's model config).

    Returns:
        The trained run as a `Pretrained` model (its latest checkpoint).

    Raises:
        ValueError: for an unknown preset or field, or a value the config rejects.
    """
    from keras_slots import config as config_lib
    from keras_slots.training import loop

    config = config_lib.get_preset(preset)
    config = config.override(**config_lib.qualified(config.model, fields))
    loop.train(config, model_dir)
    return load(model_dir)


def run_metadata(config, step):
    """What an export records of a run: preset, task, step, config and input preprocessing."""
    import dataclasses

    return {"preset": config.name, "task": config.task, "step": step,
            "config": dataclasses.asdict(config),
            "input": "serving_default: uint8 images [B, H, W, 3] in 0..255",
            "preprocessing": run_preprocessing(config)}


def run_preprocessing(config):
    """How pictures become the inputs of a run's model, as its exports record it.

    Args:
        config: the run's Config.

    Returns:
        dict (see DatasetInfo.preprocessing): the run's `train.preprocessing` when it has
        one (e.g. a model imported from the paper's code, keras_slots.released), else its
        dataset's; set prediction: the whole frame resized (set_prediction.serving).
    """
    from keras_slots.config import SET_PREDICTION

    if config.train.preprocessing:
        return dict(config.train.preprocessing)
    if config.task == SET_PREDICTION:
        from keras_slots.set_prediction import serving

        return dict(serving.PREPROCESSING)
    from keras_slots.data import catalog

    return catalog.preprocessing(config.train.dataset)


class Pretrained:
    """A trained model with the preprocessing it was trained with.

    Attributes:
        model: the Keras model (float32).
        metadata: the export's metadata (preset, step, config, preprocessing, ...).
        resolution: (height, width) of the model input.
        task: "object_discovery" or "set_prediction".
    """

    def __init__(self, model, metadata):
        self.model = model
        self.metadata = metadata
        self.resolution = tuple(model.resolution)
        self.task = metadata.get("task") or metadata.get("config", {}).get(
            "task", "object_discovery")

    def prepare(self, images):
        """Pictures of any size -> the model's float32 input in [-1, 1], as in training.

        Args:
            images: uint8 [B, H, W, C] array, or a list of uint8 [H, W, C] arrays (C in
                1..4) of any sizes.

        Returns:
            (float32 [B, H, W, 3] in [-1, 1], list of notes per image saying what was done).
        """
        prepared, notes = [], []
        for image in images:
            image = np.asarray(image)
            if self.task == SET_PREDICTION:  # The whole frame, bilinear, no crop.
                from keras_slots.set_prediction import images as sp_images

                image, note = images_lib.to_rgb(image)
                floats = sp_images.preprocess_image(image, self.resolution).numpy()
            else:
                image, note = images_lib.prepare_image(image, self.resolution,
                                                       self.metadata.get("preprocessing"))
                floats = images_lib.to_model_range(image).numpy()
            prepared.append(floats)  # [H, W, 3]
            notes.append(note)
        return np.stack(prepared), notes

    def predict(self, images, seed=(0, 0), num_slots=None, batch_size=16):
        """Runs the model on pictures of any size (prepared as in training).

        Every image gets the same slot noise (drawn from `seed`), as in the exported
        `serving_default`, so an image's outputs do not depend on the rest of the batch.

        Args:
            images: see `prepare`.
            seed: two ints seeding the slot noise.
            num_slots: slots K at test time (default: the trained number).
            batch_size: images per model call.

        Returns:
            dict of numpy arrays. Object discovery: "recon" [B, H, W, 3] and "recons"
            [B, K, H, W, 3] in [-1, 1], "masks" [B, K, H, W] (softmax over slots),
            "segmentation" int [B, H, W] (argmax slot), "slots" [B, K, D], "image" the
            prepared input as uint8 [B, H, W, 3]. Set prediction: "pred" [B, K, 19] (see
            keras_slots.set_prediction.targets) and "image" (the input as uint8).
        """
        from keras_slots.export import shared_slot_noise

        inputs, _ = self.prepare(images)
        seed = tf.constant(seed, tf.int32)
        chunks = []
        for start in range(0, len(inputs), batch_size):
            floats = tf.constant(inputs[start:start + batch_size])  # [b, H, W, 3]
            noise = shared_slot_noise(self.model, floats, seed, num_slots)  # [B, K, D]
            out = self.model(floats, num_slots=num_slots, slot_noise=noise)
            chunks.append(out if isinstance(out, dict) else {"pred": out})
        result = {key: np.concatenate([np.asarray(c[key], np.float32) for c in chunks])
                  for key in chunks[0] if key in ("recon", "recons", "masks", "slots", "pred")}
        if "masks" in result:
            result["masks"] = result["masks"][..., 0]  # [B, K, H, W]
            result["segmentation"] = np.argmax(result["masks"], axis=1)  # [B, H, W]
        result["image"] = images_lib.to_uint8(inputs)  # [B, H, W, 3]
        return result


    def evaluate(self, dataset=None, num_examples=320, batch_size=32, seed=0):
        """FG-ARI, ARI, mBO and mIoU on a dataset's test split, as scripts/evaluate.py.

        Args:
            dataset: a dataset name with ground truth (default: the one trained on).
            num_examples: test scenes (the paper: 320).
            batch_size: evaluation batch size.
            seed: seed of the slot noise.

        Returns:
            dict metric -> {"mean", "std", "ci95_low", "ci95_high", "n", ...} (fractions in
            [0, 1]) plus "num_images", and "images"/"outputs": the first batch's inputs and
            model outputs, for `keras_slots.visualize.slot_grid`.
        """
        from keras_slots import data, evaluation

        name = dataset or self.metadata["config"]["train"]["dataset"]
        info = data.catalog.get(name)
        scenes = data.get_dataset(name, "test", num_examples=num_examples)
        results = evaluation.evaluate(self.model, scenes, batch_size=batch_size, seed=seed,
                                      num_background=info.num_background)
        table = evaluation.summary_table(results)
        table["images"], table["outputs"] = results["images"], results["outputs"]
        return table


def _locate(name_or_path):
    """The folder of a shipped model's name or of a path; ValueError when none exists."""
    from keras_slots import export
    from keras_slots.training import checkpoints

    candidates = [name_or_path]
    if "/" not in name_or_path and "://" not in name_or_path:
        candidates.insert(0, os.path.join(PRESETS_DIR, name_or_path))
    for path in candidates:
        if any(tf.io.gfile.exists(os.path.join(path, name))
               for name in (checkpoints.CONFIG_FILE, export.METADATA_FILE)):
            return path
    shipped = sorted(n for n in os.listdir(PRESETS_DIR) if os.path.exists(
        os.path.join(PRESETS_DIR, n, export.METADATA_FILE))) if os.path.isdir(PRESETS_DIR) else []
    raise ValueError(f"{name_or_path!r} is neither a shipped model ({', '.join(shipped)}) nor "
                     f"a folder holding an export (keras_slots.json) or a run (config.json)")


def _scratch_dir():
    import tempfile

    return tempfile.mkdtemp(prefix="keras_slots_")
