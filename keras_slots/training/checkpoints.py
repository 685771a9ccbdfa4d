"""Run directories: the saved config, write checks and the checkpoint manager.

Paths go through tf.io.gfile, so a model_dir may be local or on any file system TensorFlow
knows (gs://bucket/run, ram://run, ...).
"""

import os
import shutil
import uuid

import tensorflow as tf

from keras_slots import files, precision
from keras_slots.config import Config
from keras_slots.tasks import get_task

CONFIG_FILE = "config.json"
# Fields that may change when a run is resumed: they do not change what is trained.
RESUMABLE_FIELDS = {
    "train.num_steps", "train.log_every", "train.image_every", "train.checkpoint_every",
    "train.keep_checkpoints", "train.steps_per_call",
}
MIN_FREE_BYTES = 100 * 2**20


class RunDirError(ValueError):
    """The model_dir cannot be used (unwritable, full, or holds a different run)."""


def check_writable(model_dir):
    """Creates model_dir and fails at once if it cannot take files.

    The free-space check runs for local directories only.

    Raises:
        RunDirError: naming the directory and the reason.
    """
    try:
        tf.io.gfile.makedirs(model_dir)
        probe = os.path.join(model_dir, f".write_test_{uuid.uuid4().hex}")
        with tf.io.gfile.GFile(probe, "w") as f:
            f.write("ok")
        tf.io.gfile.remove(probe)
    except OSError as e:
        raise RunDirError(f"model_dir {model_dir} is not writable: {e.strerror or e}") from None
    except tf.errors.OpError as e:
        raise RunDirError(f"model_dir {model_dir} is not writable: {e.message}") from None
    if not files.is_local(model_dir):
        return
    free = shutil.disk_usage(model_dir).free
    if free < MIN_FREE_BYTES:
        raise RunDirError(f"model_dir {model_dir} has only {free / 2**20:.0f} MiB free; "
                          f"checkpoints need at least {MIN_FREE_BYTES / 2**20:.0f} MiB")


def load_config(model_dir):
    """Reads the Config saved in model_dir.

    Raises:
        RunDirError: when there is none.
    """
    path = os.path.join(model_dir, CONFIG_FILE)
    if not tf.io.gfile.exists(path):
        raise RunDirError(f"no {CONFIG_FILE} in {model_dir}: is it a keras_slots model_dir?")
    with tf.io.gfile.GFile(path) as f:
        return Config.from_json(f.read())


def save_or_check_config(model_dir, config, allow_change=False):
    """Saves the config beside the checkpoints, or checks it matches the one saved there.

    Args:
        model_dir: the run directory.
        config: the Config of this run.
        allow_change: overwrite a different saved config instead of refusing.

    Raises:
        RunDirError: listing the differing fields when the saved config differs.
    """
    path = os.path.join(model_dir, CONFIG_FILE)
    if tf.io.gfile.exists(path) and not allow_change:
        saved = load_config(model_dir)
        diffs = [d for d in config.differences(saved)
                 if d.split(":")[0] not in RESUMABLE_FIELDS]
        if diffs:
            raise RunDirError(
                f"{model_dir} holds a run with a different config (saved != requested: "
                f"{'; '.join(diffs)}); use another --model_dir or pass --allow_config_change"
            )
    files.write_atomic(path, config.to_json())


def make_manager(checkpoint, directory, max_to_keep=5):
    """A CheckpointManager; TF writes each checkpoint fully before pointing at it."""
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep)


def latest_checkpoint(model_dir):
    """Path of the newest checkpoint in model_dir.

    Raises:
        RunDirError: when model_dir holds no checkpoint.
    """
    path = tf.train.latest_checkpoint(model_dir)
    if path is None:
        raise RunDirError(f"no checkpoint in {model_dir}: train first (scripts/train.py)")
    return path


def restore_model(model_dir, checkpoint_path=None, compute_dtype=None):
    """Rebuilds the model saved in model_dir and loads a checkpoint.

    Args:
        model_dir: a run directory written by `training.loop.train`.
        checkpoint_path: a checkpoint prefix (default: the latest in model_dir).
        compute_dtype: "float32" or "bfloat16" (default: the run's precision choice, resolved
            on this machine).

    Returns:
        (model, config, step) with step the training step of the checkpoint.

    Raises:
        RunDirError: when model_dir holds no config or no checkpoint.
    """
    config = load_config(model_dir)
    path = checkpoint_path or latest_checkpoint(model_dir)
    compute_dtype = compute_dtype or precision.resolve(config.train.precision)[0]
    model = get_task(config.task).build_model(config.model, compute_dtype)
    step = tf.Variable(0, dtype=tf.int64)
    tf.train.Checkpoint(model=model, step=step).read(path).expect_partial()
    return model, config, int(step.numpy())
