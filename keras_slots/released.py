"""Import of the checkpoints the paper's authors released with their TF2 code.

`gs://gresearch/slot-attention/object-discovery` (7 slots, CLEVR 128x128, step 500k) and
`gs://gresearch/slot-attention/set-prediction` (10 slots) were written by
`tf.train.Checkpoint(network=model, optimizer=adam, global_step=step)`, `model` being a
Keras 2 functional model whose one weighted layer is the autoencoder or the classifier. Every
weight therefore sits at `network/layer_with_weights-0/<attribute path>/.ATTRIBUTES/
VARIABLE_VALUE`, its Adam moments at `<that path minus the suffix>/.OPTIMIZER_SLOT/
optimizer/{m,v}/.ATTRIBUTES/VARIABLE_VALUE`. Our layers compute the same function with
their default options (Keras 3 and Keras 2 share LayerNormalization's epsilon 1e-3, the
GRUCell with reset_after and its z, r, h gate order, the [h, w, out, in] transposed
convolution kernels and "same" padding), so the import is a renaming: `TABLE` maps each
released path to our weight path. Keras 2's Adam has the update rule and moments of Keras 3's,
so m, v and the iteration count are imported too.

Example:
    >>> TABLE["set_prediction"][0]
    ('encoder_cnn/layer_with_weights-0/kernel', 'encoder/conv_0/kernel')
"""

import dataclasses
import os
import re

import numpy as np
import tensorflow as tf

from keras_slots import files
from keras_slots.config import OBJECT_DISCOVERY, SET_PREDICTION, get_preset
from keras_slots.resolution import at_resolution
from keras_slots.models.factory import weights_by_path
from keras_slots.training import checkpoints, loop

PREFIX = "network/layer_with_weights-0/"
VALUE = "/.ATTRIBUTES/VARIABLE_VALUE"
ADAM_SLOT = "/.OPTIMIZER_SLOT/optimizer/{}" + VALUE  # Keras 2 Adam: "m" and "v".
GLOBAL_STEP = "global_step" + VALUE
ITERATIONS = "optimizer/iter" + VALUE
ADAM_BETAS = {"optimizer/beta_1" + VALUE: 0.9, "optimizer/beta_2" + VALUE: 0.999}

# What the released models have that is not a weight (their training scripts' values).
PAPER = {OBJECT_DISCOVERY: {"preset": "clevr", "num_slots": 7, "crop": [[29, 221], [64, 256]]},
         SET_PREDICTION: {"preset": "clevr_set_prediction", "num_slots": 10, "crop": None}}
RESOLUTION = (128, 128)
NUM_ITERATIONS = 3
SOURCE_SIZE = [320, 480]  # TFDS clevr:3.1.0 frames, height x width.


def _layer(released, ours, names=("kernel", "bias")):
    return tuple((f"{released}/{name}", f"{ours}/{name}") for name in names)


def _sequential(released, ours):
    """Keras 2 Sequential children are layer_with_weights-<i>; `ours` names them in order."""
    return sum((_layer(f"{released}/layer_with_weights-{i}", name)
                for i, name in enumerate(ours)), ())


_NORM = ("gamma", "beta")
_SHARED = (
    _sequential("encoder_cnn", [f"encoder/conv_{i}" for i in range(4)])
    + _layer("encoder_pos/dense", "encoder/position/dense")
    + _layer("layer_norm", "encoder/norm", _NORM)
    + _sequential("mlp", ["encoder/mlp_hidden", "encoder/mlp_out"])  # Named "feedforward".
    + _layer("slot_attention", "slot_attention", ("slots_mu", "slots_log_sigma"))
    + sum((_layer(f"slot_attention/norm_{n}", f"slot_attention/norm_{n}", _NORM)
           for n in ("inputs", "slots", "mlp")), ())
    + tuple((f"slot_attention/project_{x}/kernel", f"slot_attention/{x}/kernel") for x in "qkv")
    + _layer("slot_attention/gru", "slot_attention/gru", ("kernel", "recurrent_kernel", "bias"))
    + _sequential("slot_attention/mlp", ["slot_attention/mlp_hidden", "slot_attention/mlp_out"])
)
# Released attribute path (between PREFIX and VALUE) -> our weight path (the weight's
# `path` without the model's name), per task.
TABLE = {
    OBJECT_DISCOVERY: _SHARED + _layer("decoder_pos/dense", "decoder/position/dense")
    + _sequential("decoder_cnn", [f"decoder/deconv_{i}" for i in range(5)] + ["decoder/output"]),
    SET_PREDICTION: _SHARED + _sequential("mlp_classifier", ["head/hidden", "head/out"]),
}
# A variable only the task's network has: it tells the two checkpoints apart.
MARKERS = {OBJECT_DISCOVERY: "decoder_cnn/layer_with_weights-0/kernel",
           SET_PREDICTION: "mlp_classifier/layer_with_weights-0/kernel"}


class ReleasedCheckpointError(ValueError):
    """The path is not a readable checkpoint of the released Slot Attention models."""


def checkpoint_prefix(path):
    """The checkpoint prefix of `path`: a prefix (".../ckpt-500") or a folder of checkpoints.

    Args:
        path: a checkpoint prefix, its .index file, or a folder (its latest checkpoint, by
            the "checkpoint" state file, else the highest-numbered *.index); local or on any
            file system TensorFlow knows (gs://...).

    Returns:
        The prefix.

    Raises:
        ReleasedCheckpointError: when `path` holds no checkpoint.
    """
    path = path[:-len(".index")] if path.endswith(".index") else path.rstrip("/")
    if tf.io.gfile.exists(path + ".index"):
        return path
    if tf.io.gfile.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            indexes = tf.io.gfile.glob(os.path.join(path, "*.index"))
            if not indexes:
                raise ReleasedCheckpointError(f"{path} holds no TensorFlow checkpoint (no "
                                              f"'checkpoint' file, no *.index file)")
            prefix = max(indexes, key=_numbers)[:-len(".index")]
        return prefix
    raise ReleasedCheckpointError(f"{path} is not a TensorFlow checkpoint: no {path}.index "
                                  f"(pass a prefix such as .../ckpt-500, or its folder)")


def read_released(prefix):
    """Reads the network (and Adam state, if there) of a released checkpoint.

    Args:
        prefix: a checkpoint prefix (see `checkpoint_prefix`).

    Returns:
        dict: "task", "weights" {released path: float32 array} (TABLE's paths), "slots"
        {released path: (m, v)} or None when the checkpoint has no Adam moments, "step" (its
        global_step; else the Adam iterations; else 0) and "iterations" (Adam's, else step).

    Raises:
        ReleasedCheckpointError: for an unreadable or truncated file, or a checkpoint of
            another architecture (naming the first variable missing or not in TABLE).
    """
    try:  # Not tf.train.load_checkpoint: ram:// calls a prefix a folder.
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, RuntimeError) as e:
        raise ReleasedCheckpointError(f"{prefix}: cannot read the checkpoint "
                                      f"({_first_line(getattr(e, 'message', e))})") from None
    for released, _ in _SHARED:
        if PREFIX + released + VALUE not in shapes:
            raise ReleasedCheckpointError(
                f"{prefix} is not a released Slot Attention checkpoint: it has no variable "
                f"{PREFIX}{released}{VALUE}")
    tasks = [task for task, marker in MARKERS.items() if PREFIX + marker + VALUE in shapes]
    if len(tasks) != 1:
        raise ReleasedCheckpointError(
            f"{prefix} has {'both' if tasks else 'neither'} {PREFIX}{MARKERS[OBJECT_DISCOVERY]}"
            f"{VALUE} (object discovery) {'and' if tasks else 'nor'} "
            f"{PREFIX}{MARKERS[SET_PREDICTION]}{VALUE} (set prediction)")
    task = tasks[0]
    names = [released for released, _ in TABLE[task]]
    for name in names:
        if PREFIX + name + VALUE not in shapes:
            raise ReleasedCheckpointError(f"{prefix} has no variable {PREFIX}{name}{VALUE} "
                                          f"(the released {task} network has it)")
    known = {PREFIX + name + VALUE for name in names}
    for key in sorted(shapes):
        if (key.startswith(PREFIX) and key.endswith(VALUE) and ".OPTIMIZER_SLOT" not in key
                and key not in known):
            raise ReleasedCheckpointError(f"{prefix} has variable {key}, which the released "
                                          f"{task} network does not have")
    try:
        get = reader.get_tensor
        weights = {name: np.asarray(get(PREFIX + name + VALUE), np.float32) for name in names}
        slot_keys = [PREFIX + name + ADAM_SLOT.format(s) for name in names for s in "mv"]
        present = [key in shapes for key in slot_keys]
        if any(present) and not all(present):
            missing = slot_keys[present.index(False)]
            raise ReleasedCheckpointError(f"{prefix} has Adam moments for some weights but "
                                          f"not {missing}")
        slots = {name: tuple(np.asarray(get(PREFIX + name + ADAM_SLOT.format(s)), np.float32)
                             for s in "mv") for name in names} if all(present) else None
        for key, ours in ADAM_BETAS.items():
            if slots and key in shapes and not np.isclose(float(get(key)), ours):
                raise ReleasedCheckpointError(f"{prefix}: Adam {key.split('/')[1]} is "
                                              f"{float(get(key))}, ours is {ours}")
        iterations = int(get(ITERATIONS)) if ITERATIONS in shapes else None
        step = int(get(GLOBAL_STEP)) if GLOBAL_STEP in shapes else iterations or 0
    except (tf.errors.OpError, IndexError, RuntimeError) as e:  # A truncated data file: IndexError.
        raise ReleasedCheckpointError(f"{prefix}: cannot read the checkpoint "
                                      f"({_first_line(getattr(e, 'message', e))})") from None
    return {"task": task, "weights": weights, "slots": slots, "step": step,
            "iterations": step if iterations is None else iterations}


def released_config(task, weights, num_slots=None, resolution=None):
    """The Config of a released network: sizes from its weight shapes, the rest the paper's.

    Args:
        task: OBJECT_DISCOVERY or SET_PREDICTION.
        weights: {released path: array} of `read_released`.
        num_slots: slots K (default: the paper's, 7 or 10); not a weight.
        resolution: (H, W) input size (default: the paper's 128x128); not a weight. Object
            discovery needs a multiple of 16 (the decoder's four stride-2 layers upsample
            a grid of resolution / 16; the released model's own function is at 128x128).

    Returns:
        A Config: the task's paper preset (strides, training settings) with the sizes read
        from the weights and `train.preprocessing` the TFDS CLEVR recipe the released model
        was trained with.

    Raises:
        ReleasedCheckpointError: for a weight with the wrong number of axes.
        ValueError: for sizes our model cannot take.
    """
    paper = PAPER[task]
    height, width = resolution = tuple(resolution or RESOLUTION)

    def size(name, axis, rank):
        shape = weights[name].shape
        if len(shape) != rank:
            raise ReleasedCheckpointError(f"{PREFIX}{name}{VALUE} has shape {list(shape)}; "
                                          f"the released networks have {rank} axes there")
        return int(shape[axis])

    convs = [f"encoder_cnn/layer_with_weights-{i}/kernel" for i in range(4)]
    sizes = dict(num_slots=num_slots or paper["num_slots"],
                 num_iterations=NUM_ITERATIONS,
                 slot_size=size("slot_attention/slots_mu", -1, 3),
                 mlp_hidden_size=size("slot_attention/mlp/layer_with_weights-0/kernel", -1, 2),
                 encoder_channels=tuple(size(name, -1, 4) for name in convs),
                 encoder_kernel_size=size(convs[0], 0, 4),
                 encoder_mlp_size=size("mlp/layer_with_weights-1/kernel", -1, 2))
    if task == OBJECT_DISCOVERY:
        deconvs = [f"decoder_cnn/layer_with_weights-{i}/kernel" for i in range(5)]
        sizes.update(decoder_channels=tuple(size(name, 2, 4) for name in deconvs),
                     decoder_kernel_size=size(deconvs[0], 0, 4))
    else:
        sizes["head_hidden_size"] = size("mlp_classifier/layer_with_weights-0/kernel", -1, 2)
    preset = get_preset(paper["preset"])  # Strides and training settings: the paper's.
    model = dataclasses.replace(preset.model, **sizes)
    if task == OBJECT_DISCOVERY:  # The 8x8 broadcast grid scales with the resolution.
        model = at_resolution(model, resolution)
    else:
        model = dataclasses.replace(model, resolution=resolution)
    preprocessing = {"source": "TFDS clevr:3.1.0 (the paper's released model)",
                     "source_size": SOURCE_SIZE, "crop": paper["crop"],
                     "resize": [height, width], "resize_method": "bilinear", "channels": 3}
    return dataclasses.replace(
        preset, name=f"{preset.name}_released",
        model=model,
        train=dataclasses.replace(preset.train, preprocessing=preprocessing))


def build_model(config, released):
    """Our model of `config` holding the released weights (float32).

    Args:
        config: a Config of `released_config`.
        released: the `read_released` dict.

    Returns:
        The built keras.Model.

    Raises:
        ReleasedCheckpointError: naming the first released weight whose shape differs from
            ours (an architecture our model cannot hold).
    """
    from keras_slots.tasks import get_task  # The tasks import the models.

    model = get_task(config.task).build_model(config.model, "float32", seed=config.train.seed)
    ours = weights_by_path(model)
    pairs = []
    for released_name, our_name in TABLE[config.task]:
        value, weight = released["weights"][released_name], ours[our_name]
        if tuple(value.shape) != tuple(weight.shape):
            raise ReleasedCheckpointError(
                f"{PREFIX}{released_name}{VALUE} has shape {list(value.shape)}; the model "
                f"built from the checkpoint's sizes needs {list(weight.shape)} there")
        pairs.append((weight, value))
    for weight, value in pairs:
        weight.assign(value)
    return model


def import_checkpoint(path, model_dir, num_slots=None, resolution=None):
    """Writes a keras_slots run folder holding a released checkpoint's model.

    The run folder has config.json and one checkpoint in the training loop's format
    (model, optimizer, step, data_position), numbered by the released global step, so
    train.py (fine-tuning, with --allow_config_change for a new config), evaluate.py,
    export.py, predict.py and visualize.py take it as one of our runs. The Adam moments and
    iteration count are imported when the checkpoint has them; the data position is 0 (our
    data streams start from their beginning). A local model_dir is written whole into a
    temporary folder and renamed into place.

    Args:
        path: a released checkpoint prefix or its folder, local or gs:// (see
            `checkpoint_prefix`).
        model_dir: the run folder to write; it must not hold a checkpoint or another run.
        num_slots: slots of the run (default: the paper's).
        resolution: (H, W) of the run (default: 128x128).

    Returns:
        dict: "task", "step", "checkpoint" (the prefix read), "optimizer" (True when the
        Adam state was imported), "config" and "model_dir".

    Raises:
        ReleasedCheckpointError: for a path that is not a released checkpoint.
        checkpoints.RunDirError: when model_dir holds checkpoints or a different run.
    """
    prefix = checkpoint_prefix(path)
    released = read_released(prefix)
    config = released_config(released["task"], released["weights"], num_slots, resolution)
    model = build_model(config, released)
    _check_target(model_dir, config)
    if files.is_local(model_dir) and not (os.path.isdir(model_dir) and os.listdir(model_dir)):
        with files.atomic_dir(model_dir) as tmp:
            _write_run(tmp, config, model, released)
    else:
        checkpoints.check_writable(model_dir)
        _write_run(model_dir, config, model, released)
    return {"task": config.task, "step": released["step"], "checkpoint": prefix,
            "optimizer": released["slots"] is not None, "config": config,
            "model_dir": model_dir}


def _check_target(model_dir, config):
    """Refuses a model_dir holding checkpoints or the config of a different run."""
    if files.is_file(model_dir):
        raise checkpoints.RunDirError(f"--model_dir {model_dir} is a file, not a folder")
    if tf.io.gfile.isdir(model_dir):
        latest = tf.train.latest_checkpoint(model_dir)
        if latest:
            raise checkpoints.RunDirError(f"{model_dir} already holds checkpoints (latest "
                                          f"{os.path.basename(latest)}): import into a new "
                                          f"folder")
        if tf.io.gfile.exists(os.path.join(model_dir, checkpoints.CONFIG_FILE)):
            diffs = config.differences(checkpoints.load_config(model_dir))
            if diffs:
                raise checkpoints.RunDirError(
                    f"{model_dir} holds a different run (saved != imported: "
                    f"{'; '.join(diffs)}): import into a new folder")


def _write_run(model_dir, config, model, released):
    """Writes the checkpoint (as training.loop.set_up builds its objects), then config.json."""
    optimizer = loop.make_optimizer(config.train, model.trainable_variables)[1]
    if released["slots"] is not None:  # Keras 3's Adam has no public setter of its moments.
        by_path = weights_by_path(model)
        for released_name, our_name in TABLE[config.task]:
            index = optimizer._get_variable_index(by_path[our_name])
            m, v = released["slots"][released_name]
            optimizer._momentums[index].assign(m)
            optimizer._velocities[index].assign(v)
    optimizer.iterations.assign(released["iterations"])
    step = tf.Variable(released["step"], dtype=tf.int64, name="step")
    data_position = tf.Variable(0, dtype=tf.int64, trainable=False, name="data_position")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step,
                                     data_position=data_position)
    manager = checkpoints.make_manager(checkpoint, model_dir, config.train.keep_checkpoints)
    manager.save(checkpoint_number=released["step"])
    files.write_atomic(os.path.join(model_dir, checkpoints.CONFIG_FILE), config.to_json())


def _numbers(path):
    """The numbers in a file name, for ordering ckpt-9 before ckpt-10."""
    return [int(digits) for digits in re.findall(r"\d+", os.path.basename(path))]


def _first_line(text):
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else "unreadable"
