"""Warm start: a new run's weights copied from a trained model with the same weight shapes.

Slot Attention's weights do not depend on the image size or the number of slots (the
position grids and the slot noise are not weights), so a model trained on one dataset can
start a run on another: the Tetrominoes model (35x35, 4 slots) starts a Multi-dSprites run
(64x64, 6 slots) with every weight it has.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from keras_slots.models.factory import weights_by_path


class WarmStartError(ValueError):
    """The warm-start source cannot be read or does not fit the model."""


def source_weights(path):
    """Reads the weights of a trained model: a run folder, an export folder or a .keras file.

    Args:
        path: a keras_slots run folder (config.json + checkpoints: the latest is read), an
            export folder holding model.keras, or a .keras file; local or gs://.

    Returns:
        dict {weight path without the model's name: float32 numpy array}.

    Raises:
        WarmStartError: when the path holds none of these.
    """
    from keras_slots.training import checkpoints  # checkpoints imports the tasks.

    if tf.io.gfile.exists(os.path.join(path, checkpoints.CONFIG_FILE)):
        model = checkpoints.restore_model(path, compute_dtype="float32")[0]
    else:
        keras_file = path if path.endswith(".keras") else os.path.join(path, "model.keras")
        if not tf.io.gfile.exists(keras_file):
            raise WarmStartError(f"--init_from {path}: neither a run folder (config.json) nor "
                                 f"an export (model.keras) nor a .keras file")
        model = keras.saving.load_model(keras_file)
    return {key: np.asarray(w.numpy(), np.float32) for key, w in weights_by_path(model).items()}


def copy_weights(model, path):
    """Sets every weight of `model` to the same-named weight of the model at `path`.

    Args:
        model: a built model (e.g. a new run's autoencoder).
        path: see `source_weights`.

    Returns:
        The number of weights copied (all of the model's).

    Raises:
        WarmStartError: naming the first weight that the source lacks or has in another
            shape; `model` is left unchanged then.
    """
    source = source_weights(path)
    pairs = []
    for key, weight in weights_by_path(model).items():
        if key not in source:
            raise WarmStartError(f"--init_from {path} has no weight {key}: another "
                                 f"architecture")
        if tuple(source[key].shape) != tuple(weight.shape):
            raise WarmStartError(f"--init_from {path}: weight {key} is "
                                 f"{tuple(source[key].shape)}, the model's is "
                                 f"{tuple(weight.shape)}")
        pairs.append((weight, source[key]))
    for weight, value in pairs:
        weight.assign(value)
    return len(pairs)
