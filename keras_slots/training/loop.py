"""The distributed training loop: tf.function steps, checkpoints, summaries, resumption."""

import math
import os
import signal
import time

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from keras_slots import data as data_lib
from keras_slots import metrics, precision
from keras_slots.models import SlotAttentionAutoEncoder
from keras_slots.training import checkpoints, distribute
from keras_slots.training.progress import ProgressBar
from keras_slots.training.schedule import WarmupExponentialDecay
from keras_slots.visualize import slot_grid


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf loss or gradient."""


def create_model(model_config, compute_dtype="float32", seed=None):
    """Builds the autoencoder and creates its weights.

    Args:
        model_config: a ModelConfig.
        compute_dtype: "float32", or "bfloat16" (bfloat16 compute, float32 weights); see
            `precision.resolve` for choosing one per machine.
        seed: seed of the slot noise when no explicit seed is passed.

    Returns:
        A built SlotAttentionAutoEncoder.
    """
    model = SlotAttentionAutoEncoder.from_model_config(
        model_config, dtype=precision.keras_policy(compute_dtype), seed=seed)
    model.build((None, *model_config.resolution, 3))
    return model


def restore_model(model_dir, checkpoint_path=None, compute_dtype=None):
    """Rebuilds the model saved in model_dir and loads a checkpoint.

    Args:
        model_dir: a run directory written by `train`.
        checkpoint_path: a checkpoint prefix (default: the latest in model_dir).
        compute_dtype: "float32" or "bfloat16" (default: the run's precision choice, resolved
            on this machine).

    Returns:
        (model, config, step) with step the training step of the checkpoint.
    """
    config = checkpoints.load_config(model_dir)
    path = checkpoint_path or checkpoints.latest_checkpoint(model_dir)
    compute_dtype = compute_dtype or precision.resolve(config.train.precision)[0]
    model = create_model(config.model, compute_dtype)
    step = tf.Variable(0, dtype=tf.int64)
    tf.train.Checkpoint(model=model, step=step).read(path).expect_partial()
    return model, config, int(step.numpy())


def reconstruction_loss(images, recon):
    """Per-example mean squared error. images, recon: [B, H, W, 3]. Returns [B]."""
    return tf.reduce_mean(tf.square(tf.cast(recon, tf.float32) - images), axis=[1, 2, 3])


class _PositionIterator:
    """A distributed iterator of images that records the data position it has reached.

    Each element of the wrapped iterator is {"image", "position"}; `next()` (traced into
    the training step) returns the images and stores the batch's position in `variable`,
    so the checkpointed value is the position after the last batch actually consumed,
    whatever the prefetching ahead of it.
    """

    def __init__(self, iterator, variable, strategy):
        self._iterator, self._variable, self._strategy = iterator, variable, strategy

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self._iterator)
        position = self._strategy.experimental_local_results(batch["position"])[0][0]
        self._variable.assign(position)
        return batch["image"]


def _input_pipeline(config, strategy, data_dir, start_step, position=None):
    """Distributed batches of training images, starting exactly where training left off.

    Every element carries its data position (built-in: the scene index; files: epoch *
    train records + rank within the epoch, counted before any filter, see
    data.get_train_stream). `position`, a checkpointed int64 variable, holds the position
    after the last consumed batch (-1 before the first: a checkpoint written without it
    restarts at start_step * batch, exact for unfiltered data) and is updated as batches
    are consumed.
    """
    tc = config.train
    if position is None:
        position = tf.Variable(-1, dtype=tf.int64, trainable=False)
    saved = int(position.numpy())
    start = saved if saved >= 0 else start_step * tc.batch_size
    ds = data_lib.get_train_stream(tc.dataset, data_dir=data_dir, seed=tc.seed,
                                   start_position=start, shuffle=tc.shuffle)
    batch = tc.batch_size

    def with_batch_position(elements):  # The position after the batch, on every row.
        next_position = tf.reduce_max(elements["position"]) + 1
        return {"image": elements["image"], "position": tf.fill([batch], next_position)}

    ds = ds.batch(batch, drop_remainder=True).map(with_batch_position)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    ds = ds.prefetch(tf.data.AUTOTUNE).with_options(options)
    return _PositionIterator(iter(strategy.experimental_distribute_dataset(ds)), position,
                             strategy)


class _StopRequest:
    """Turns SIGTERM / SIGINT into a flag the loop checks, so it can save and exit."""

    def __init__(self):
        self.signal = None
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame):
        self.signal = signum

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def train(config, model_dir, *, strategy=None, data_dir=None, allow_config_change=False,
          skip_nonfinite=False, deterministic=False, stream=None):
    """Trains (or resumes training) the autoencoder of `config` in `model_dir`.

    Args:
        config: the run's Config.
        model_dir: where the config, checkpoints and TensorBoard logs go; a run already
            there is resumed from its latest checkpoint.
        strategy: a tf.distribute.Strategy (default: the current one).
        data_dir: directory of published dataset files; None uses the built-in generator.
        allow_config_change: resume even if the saved config differs.
        skip_nonfinite: skip a batch with a NaN/Inf loss or gradient instead of stopping.
        deterministic: turn on TF op determinism (bit-identical reruns and resumes).
        stream: where the progress bar writes (default stderr).

    Returns:
        dict with the final "step", the last "loss", "losses" (the loss of every step this
        call ran), "signal" (the signal that stopped the run, or None) and "evals" (one
        dict(step, time, fg_ari) per periodic evaluation: FG-ARI of the first
        `eval_examples` test scenes every `eval_every` steps, `time` from time.time()).

    Raises:
        NonFiniteError: on a NaN/Inf loss or gradient (unless skip_nonfinite); the last good
            checkpoint is kept and nothing is saved for the bad step.
        checkpoints.RunDirError: for an unusable model_dir or a config mismatch.
    """
    strategy = strategy or tf.distribute.get_strategy()
    tc = config.train
    replicas = strategy.num_replicas_in_sync
    if tc.batch_size % replicas:
        raise ValueError(f"batch size {tc.batch_size} is not divisible by the "
                         f"{replicas} replicas; pick a multiple of {replicas}")
    chief = distribute.is_chief(strategy)
    out_dir = distribute.worker_dir(model_dir, strategy)
    checkpoints.check_writable(out_dir)
    if chief:
        checkpoints.save_or_check_config(model_dir, config, allow_config_change)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(tc.seed)

    compute_dtype, reason = precision.resolve(tc.precision)
    with strategy.scope():
        model = create_model(config.model, compute_dtype, seed=tc.seed)
        schedule = WarmupExponentialDecay(tc.learning_rate, tc.warmup_steps, tc.decay_rate,
                                          tc.decay_steps)
        optimizer = keras.optimizers.Adam(learning_rate=schedule, epsilon=1e-8)
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, name="step")
    data_position = tf.Variable(-1, dtype=tf.int64, trainable=False, name="data_position")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step,
                                     data_position=data_position)
    manager = checkpoints.make_manager(checkpoint, out_dir, tc.keep_checkpoints)
    if manager.latest_checkpoint:
        # Every weight, optimizer slot and the step must be there; the data position may be
        # missing (checkpoints written before it existed: -1 means "from the step").
        tf.train.Checkpoint(model=model, optimizer=optimizer, step=step).restore(
            manager.latest_checkpoint).assert_existing_objects_matched()
        tf.train.Checkpoint(data_position=data_position).restore(
            manager.latest_checkpoint).expect_partial()
    start = int(step.numpy())
    writer = tf.summary.create_file_writer(os.path.join(model_dir, "train")) if chief else None

    variables = model.trainable_variables
    noise_shape = [tc.batch_size, config.model.num_slots, config.model.slot_size]

    def compute_grads(images):
        ctx = tf.distribute.get_replica_context()
        # Noise of the whole global batch from (seed, step); each replica takes its rows, so
        # the run does not depend on the number of replicas and resumes exactly.
        seed = tf.stack([tf.cast(tc.seed, tf.int32), tf.cast(step, tf.int32)])
        noise = tf.random.stateless_normal(noise_shape, seed=seed)  # [B_global, K, D]
        per_replica = tc.batch_size // replicas
        noise = noise[ctx.replica_id_in_sync_group * per_replica:][:per_replica]  # [B, K, D]
        with tf.GradientTape() as tape:
            out = model(images, slot_noise=noise, training=True)
            per_example = reconstruction_loss(images, out["recon"])  # [B_replica]
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=tc.batch_size)
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tape.gradient(loss, variables))
        loss = ctx.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        return grads, loss, tf.linalg.global_norm(grads)

    def apply_grads(grads):
        # The optimizer sums gradients over replicas again; grads are already summed.
        optimizer.apply_gradients(zip([g / replicas for g in grads], variables))

    @tf.function
    def grad_step(iterator):
        images = next(iterator)
        grads, loss, norm = strategy.run(compute_grads, args=(images,))
        return grads, strategy.reduce("MEAN", loss, None), strategy.reduce("MEAN", norm, None)

    @tf.function
    def apply_step(grads):
        strategy.run(apply_grads, args=(grads,))

    preview = None
    if writer is not None:  # The same first training images in every image summary.
        preview = next(iter(data_lib.get_dataset(
            tc.dataset, "train", data_dir=data_dir, seed=tc.seed, num_examples=4).batch(4)))
        preview = preview["image"]  # [4, H, W, 3]

    @tf.function
    def predict(images):
        return model(images, seed=tf.constant([tc.seed, 0], tf.int32))

    eval_batch = _eval_batch(config, data_dir)
    iterator = _input_pipeline(config, strategy, data_dir, start, data_position)
    bar = ProgressBar(tc.num_steps, initial=start, every=tc.log_every, stream=stream)
    logging.info("precision: %s (%s)", compute_dtype, reason)
    last_loss, last_time, last_step, losses = float("nan"), time.time(), start, []
    evals, shown = [], {}
    with _StopRequest() as stop:
        while int(step.numpy()) < tc.num_steps and stop.signal is None:
            grads, loss, norm = grad_step(iterator)
            loss, norm = float(loss), float(norm)
            losses.append(loss)
            current = int(step.numpy())
            if not (math.isfinite(loss) and math.isfinite(norm)):
                message = (f"non-finite loss {loss} or gradient norm {norm} at step {current}")
                if not skip_nonfinite:
                    raise NonFiniteError(message + "; the last good checkpoint is kept "
                                         "(pass --skip_nonfinite to skip such batches)")
                logging.warning("%s; batch skipped", message)
            else:
                apply_step(grads)
                last_loss = loss
            step.assign_add(1)
            current += 1
            if eval_batch is not None and (current % tc.eval_every == 0
                                           or current == tc.num_steps):
                fg_ari = _fg_ari(predict, *eval_batch)
                evals.append({"step": current, "time": time.time(), "fg_ari": fg_ari})
                shown["fg_ari"] = fg_ari
                if writer is not None:
                    with writer.as_default(step=current):
                        tf.summary.scalar("eval/fg_ari", fg_ari)
            bar.update(current, loss=last_loss, **shown)
            if writer is not None and (current % tc.log_every == 0 or current == tc.num_steps):
                now = time.time()
                with writer.as_default(step=current):
                    tf.summary.scalar("loss", last_loss)
                    tf.summary.scalar("learning_rate", float(schedule(optimizer.iterations)))
                    tf.summary.scalar("grad_norm", norm)
                    tf.summary.scalar("steps_per_sec", (current - last_step) / (now - last_time))
                last_time, last_step = now, current
            if writer is not None and current % tc.image_every == 0:
                _write_images(writer, current, preview, predict(preview))
            if current % tc.checkpoint_every == 0 or current == tc.num_steps:
                manager.save(checkpoint_number=current)
        if stop.signal is not None:
            manager.save(checkpoint_number=int(step.numpy()))
            logging.warning("stopped by signal %d at step %d; checkpoint saved", stop.signal,
                            int(step.numpy()))
    if writer is not None:
        writer.flush()
    return {"step": int(step.numpy()), "loss": last_loss, "losses": losses,
            "signal": stop.signal, "evals": evals}


def _eval_batch(config, data_dir):
    """The fixed evaluation batch: the first `eval_examples` test scenes, or None if disabled.

    Returns:
        (images [E, H, W, 3], ground-truth ids [E, H*W], number of background masks) or
        None.
    """
    tc = config.train
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
    background = data_lib.registry.get(tc.dataset).num_background  # Image folders too.
    return batch["image"], metrics.masks_to_ids(batch["mask"].numpy()), background


def _fg_ari(predict, images, true_ids, num_background):
    """Mean FG-ARI of the model's masks on a fixed batch (the slot noise is seeded)."""
    pred_ids = metrics.masks_to_ids(predict(images)["masks"].numpy())  # [E, H*W]
    scores, _ = metrics.fg_ari(true_ids, pred_ids, num_background=num_background)
    return float(np.mean(scores))


def _write_images(writer, current, images, outputs):
    """Logs an input / reconstruction / segmentation / per-slot grid to TensorBoard."""
    grid = slot_grid(images.numpy(), {k: v.numpy() for k, v in outputs.items()}, scale=2)
    with writer.as_default(step=current):
        tf.summary.image("slots", grid[None].astype(np.float32) / 255.0)
