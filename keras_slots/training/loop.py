"""The task-independent distributed training loop: steps, checkpoints, summaries, resumption."""

import dataclasses
import math
import os
import signal
import time

from absl import logging
import keras
import tensorflow as tf

from keras_slots import precision
from keras_slots.tasks import get_task
from keras_slots.training import checkpoints, distribute, warm_start
from keras_slots.training.progress import ProgressBar
from keras_slots.training.schedule import WarmupExponentialDecay


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf loss or gradient."""


def train(config, model_dir, *, task=None, strategy=None, data_dir=None,
          allow_config_change=False, skip_nonfinite=False, deterministic=False, stream=None):
    """Trains (or resumes training) the model of `task` and `config` in `model_dir`.

    SIGTERM and SIGINT are caught from the first line on: the run then saves a checkpoint
    at the step it reached (after set-up, if the signal came during it) and returns. In a
    multi-worker run a signal to any one worker stops every worker after the same step:
    before each call of the training step the workers agree (by an all-reduce) whether one
    of them was signalled, so all save at that step and return.

    Args:
        config: the run's Config.
        model_dir: where the config, checkpoints and TensorBoard logs go; a run already
            there is resumed from its latest checkpoint.
        task: a tasks.Task (default: the one of config.task).
        strategy: a tf.distribute.Strategy (default: the current one).
        data_dir: directory of published dataset files; None uses the built-in generator.
        allow_config_change: resume even if the saved config differs.
        skip_nonfinite: skip a batch with a NaN/Inf loss or gradient instead of stopping.
        deterministic: turn on TF op determinism (bit-identical reruns and resumes).
        stream: where the progress bar writes (default stderr).

    Returns:
        dict with the final "step", the last "loss", "losses" (the loss of every step this
        call ran), "signal" (the signal this process received, or None), "stopped" (True
        when a signal, here or on another worker, ended the run before num_steps) and
        "evals" (one dict(step, time, <metric>: value) per periodic evaluation of the task,
        e.g. FG-ARI of the first `eval_examples` test scenes every `eval_every` steps;
        `time` from time.time()).

    Raises:
        NonFiniteError: on a NaN/Inf loss or gradient (unless skip_nonfinite); the last good
            checkpoint is kept and nothing is saved for the bad step.
        checkpoints.RunDirError: for an unusable model_dir or a config mismatch.
    """
    with _StopRequest() as stop:
        state = set_up(config, model_dir, task=task, strategy=strategy, data_dir=data_dir,
                       allow_config_change=allow_config_change, deterministic=deterministic)
        result = run(state, config.train, stop=stop, skip_nonfinite=skip_nonfinite,
                     stream=stream)
        if result["stopped"]:
            state.manager.save(checkpoint_number=result["step"])
            reason = (f"by signal {stop.signal}" if stop.signal is not None
                      else "because another worker was signalled")
            logging.warning("stopped %s at step %d; checkpoint saved", reason, result["step"])
    if state.writer is not None:
        state.writer.flush()
    return dict(result, signal=stop.signal)


@dataclasses.dataclass
class TrainState:
    """Everything a run holds between steps (see `set_up`)."""

    model: keras.Model
    optimizer: keras.optimizers.Optimizer
    schedule: WarmupExponentialDecay
    step: tf.Variable
    manager: tf.train.CheckpointManager
    writer: object  # tf.summary writer on the chief, else None.
    iterator: object  # _PositionIterator of the task's features.
    train_steps: object  # tf.function (iterator, count) -> (losses [n], grad norms [n]).
    evaluate: object  # () -> {name: value}, or None.
    summarize: object  # () -> None, or None.
    agree_to_stop: object  # (requested: bool) -> bool, the same on every worker.


def set_up(config, model_dir, *, task=None, strategy=None, data_dir=None,
           allow_config_change=False, deterministic=False):
    """Checks the run dir, builds model and optimizer, restores the latest checkpoint.

    Arguments as in `train`.

    Returns:
        A TrainState for `run`.
    """
    task = task or get_task(config.task)
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
    logging.info("precision: %s (%s)", compute_dtype, reason)
    with strategy.scope():
        model = task.build_model(config.model, compute_dtype, seed=tc.seed)
        schedule, optimizer = make_optimizer(tc, model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, name="step")
    data_position = tf.Variable(-1, dtype=tf.int64, trainable=False, name="data_position")
    manager = _restore(model, optimizer, step, data_position, out_dir, tc.keep_checkpoints)
    if manager.latest_checkpoint is None and tc.init_from:
        count = warm_start.copy_weights(model, tc.init_from)
        logging.info("warm start: %d weights from %s", count, tc.init_from)
    writer = tf.summary.create_file_writer(os.path.join(model_dir, "train")) if chief else None
    return TrainState(
        model=model, optimizer=optimizer, schedule=schedule, step=step, manager=manager,
        writer=writer,
        iterator=_input_pipeline(config, task, strategy, data_dir, int(step.numpy()),
                                 data_position),
        train_steps=_make_train_steps(config, task, model, optimizer, step, strategy),
        evaluate=task.make_evaluation(model, tc, data_dir),
        summarize=task.make_summaries(model, tc, data_dir) if chief else None,
        agree_to_stop=_make_stop_agreement(strategy),
    )


def make_optimizer(train_config, variables):
    """The run's learning-rate schedule and its Adam, built for `variables`.

    Returns:
        (WarmupExponentialDecay, keras.optimizers.Adam).
    """
    tc = train_config
    schedule = WarmupExponentialDecay(tc.learning_rate, tc.warmup_steps, tc.decay_rate,
                                      tc.decay_steps, tc.cooldown_steps, tc.num_steps)
    optimizer = keras.optimizers.Adam(learning_rate=schedule, epsilon=1e-8)
    optimizer.build(variables)
    return schedule, optimizer


def _restore(model, optimizer, step, data_position, out_dir, keep):
    """The checkpoint manager of out_dir, with its latest checkpoint (if any) restored."""
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step,
                                     data_position=data_position)
    manager = checkpoints.make_manager(checkpoint, out_dir, keep)
    if manager.latest_checkpoint:
        # Every weight, optimizer slot and the step must be there; the data position may be
        # missing (checkpoints written before it existed: -1 means "from the step"). Each
        # restore reads part of the file, so both say so (no "unrestored values" warning).
        tf.train.Checkpoint(model=model, optimizer=optimizer, step=step).restore(
            manager.latest_checkpoint).assert_existing_objects_matched().expect_partial()
        tf.train.Checkpoint(data_position=data_position).restore(
            manager.latest_checkpoint).expect_partial()
    return manager


def _make_train_steps(config, task, model, optimizer, step, strategy):
    """The training step, run `count` times in one tf.function call.

    A step takes the next batch, computes the task's loss and the gradients on every
    replica, sums them, clips them to `train.clip_norm` when it is set, and applies them
    only when the loss and the gradient norm are
    finite; `step` counts the steps taken. A non-finite step ends the call without counting
    itself, so the caller decides whether to stop or to skip the batch.

    Returns:
        tf.function (iterator, count: int32 scalar) -> (losses [n], gradient norms [n]),
        n <= count the steps run (n < count only after a non-finite step, the last one).
    """
    tc = config.train
    replicas = strategy.num_replicas_in_sync
    variables = model.trainable_variables
    noise_shape = [tc.batch_size, config.model.num_slots, config.model.slot_size]

    def compute_grads(features, noise_step):
        ctx = tf.distribute.get_replica_context()
        # Noise of the whole global batch from (seed, step); each replica takes its rows, so
        # the run does not depend on the number of replicas and resumes exactly.
        seed = tf.stack([tf.cast(tc.seed, tf.int32), tf.cast(noise_step, tf.int32)])
        noise = tf.random.stateless_normal(noise_shape, seed=seed)  # [B_global, K, D]
        per_replica = tc.batch_size // replicas
        noise = noise[ctx.replica_id_in_sync_group * per_replica:][:per_replica]  # [B, K, D]
        with tf.GradientTape() as tape:
            per_example = task.loss(model, features, noise)  # [B_replica]
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=tc.batch_size)
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tape.gradient(loss, variables))
        loss = ctx.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        norm = tf.linalg.global_norm(grads)  # Logged before clipping.
        if tc.clip_norm:  # grads is the gradient of the global batch's mean loss.
            grads, _ = tf.clip_by_global_norm(grads, tc.clip_norm, use_norm=norm)
        return grads, loss, norm

    def apply_grads(grads):
        # The optimizer sums gradients over replicas again; grads are already summed.
        optimizer.apply_gradients(zip([g / replicas for g in grads], variables))

    @tf.function
    def train_steps(iterator, count):
        losses = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        norms = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        start = step.read_value()
        for i in tf.range(count):
            features = next(iterator)
            grads, loss, norm = strategy.run(compute_grads,
                                             args=(features, start + tf.cast(i, tf.int64)))
            loss = strategy.reduce("MEAN", loss, None)
            norm = strategy.reduce("MEAN", norm, None)
            losses = losses.write(i, loss)
            norms = norms.write(i, norm)
            if not (tf.math.is_finite(loss) and tf.math.is_finite(norm)):
                break
            strategy.run(apply_grads, args=(grads,))
            step.assign_add(1)
        return losses.stack(), norms.stack()

    return train_steps


def _make_stop_agreement(strategy):
    """Whether to stop now, decided alike on every worker.

    Every worker calls it at the same points of a run (before each call of the training
    step), passing whether it was asked to stop; a collective sums the requests, so when any
    worker was signalled all of them stop after the same step. With one worker the request
    is the answer and nothing is communicated.

    Returns:
        A function (requested: bool) -> bool.
    """
    if distribute.num_workers(strategy) == 1:
        return bool

    @tf.function
    def requests(requested):  # int32 scalar -> the number of replicas asked to stop
        flags = strategy.run(lambda: tf.identity(requested))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, flags, axis=None)

    return lambda requested: int(requests(tf.constant(int(requested)))) > 0


def _steps_until_event(current, tc, has_eval):
    """Steps from `current` to the next step that logs, evaluates, draws or saves.

    The same on every worker (it depends on the config only), so all run the same steps per
    call.
    """
    periods = [tc.log_every, tc.image_every, tc.checkpoint_every]
    if has_eval:
        periods.append(tc.eval_every)
    event = min([tc.num_steps] + [(current // p + 1) * p for p in periods])
    return max(1, min(event - current, tc.steps_per_call))


def run(state, tc, *, stop=None, skip_nonfinite=False, stream=None):
    """Trains from the state's step to tc.num_steps or until a stop is agreed.

    Args:
        state: a TrainState from `set_up`.
        tc: the TrainConfig (its num_steps, periods and steps_per_call apply).
        stop: an object whose `signal` attribute is checked between calls (None: never);
            once it is set here or on another worker, every worker stops at the same step.
        skip_nonfinite, stream: as in `train`.

    Returns:
        dict with "step", "loss", "losses", "stopped" and "evals" as in `train`.
    """
    stop = stop or _StopRequest()
    current = int(state.step.numpy())
    bar = ProgressBar(tc.num_steps, initial=current, every=tc.log_every, stream=stream)
    last = {"loss": float("nan"), "time": time.time(), "step": current}
    losses, evals, shown = [], [], {}
    stopped = False
    while current < tc.num_steps:
        if state.agree_to_stop(stop.signal is not None):
            stopped = True
            break
        count = _steps_until_event(current, tc, state.evaluate is not None)
        step_losses, norms = (t.numpy() for t in state.train_steps(
            state.iterator, tf.constant(count, tf.int32)))
        ran = len(step_losses)
        for index, (loss, norm) in enumerate(zip(step_losses.tolist(), norms.tolist())):
            losses.append(loss)
            if math.isfinite(loss) and math.isfinite(norm):
                last["loss"] = loss
            else:
                message = f"non-finite loss {loss} or gradient norm {norm} at step {current}"
                if not skip_nonfinite:
                    raise NonFiniteError(message + "; the last good checkpoint is kept "
                                         "(pass --skip_nonfinite to skip such batches)")
                logging.warning("%s; batch skipped", message)
                state.step.assign_add(1)  # The skipped batch counts as a step.
            current += 1
            if index < ran - 1:  # The last step of the call is drawn after its events.
                bar.update(current, loss=last["loss"], **shown)
        if ran == count:  # Else a skipped batch ended the call before its event step.
            _at_step_end(state, tc, current, float(norms[-1]), last, evals, shown)
        bar.update(current, loss=last["loss"], **shown)
    return {"step": current, "loss": last["loss"], "losses": losses, "stopped": stopped,
            "evals": evals}


def _at_step_end(state, tc, current, norm, last, evals, shown):
    """Evaluates, logs, draws and saves at `current` when their periods say so."""
    if state.evaluate is not None and (current % tc.eval_every == 0
                                       or current == tc.num_steps):
        values = state.evaluate()
        evals.append({"step": current, "time": time.time(), **values})
        shown.update(values)
        if state.writer is not None:
            with state.writer.as_default(step=current):
                for name, value in values.items():
                    tf.summary.scalar(f"eval/{name}", value)
    if state.writer is not None and (current % tc.log_every == 0 or current == tc.num_steps):
        _log_scalars(state, current, norm, last)
    if state.summarize is not None and current % tc.image_every == 0:
        with state.writer.as_default(step=current):
            state.summarize()
    if current % tc.checkpoint_every == 0 or current == tc.num_steps:
        state.manager.save(checkpoint_number=current)


def _log_scalars(state, current, norm, last):
    """Writes loss, learning rate, gradient norm and speed since the previous log."""
    now = time.time()
    with state.writer.as_default(step=current):
        tf.summary.scalar("loss", last["loss"])
        tf.summary.scalar("learning_rate",
                          float(state.schedule(state.optimizer.iterations)))
        tf.summary.scalar("grad_norm", norm)
        tf.summary.scalar("steps_per_sec", (current - last["step"]) / (now - last["time"]))
    last["time"], last["step"] = now, current


class _PositionIterator:
    """A distributed iterator of task features that records the data position it reached.

    Each element of the wrapped iterator is the task's features plus "position"; `next()`
    (traced into the training step) returns the features and stores the batch's position
    in `variable`, so the checkpointed value is the position after the last batch actually
    consumed, whatever the prefetching ahead of it.
    """

    def __init__(self, iterator, variable, strategy):
        self._iterator, self._variable, self._strategy = iterator, variable, strategy

    def __iter__(self):
        return self

    def __next__(self):
        batch = dict(next(self._iterator))
        position = self._strategy.experimental_local_results(batch.pop("position"))[0][0]
        self._variable.assign(position)
        return batch


def _input_pipeline(config, task, strategy, data_dir, start_step, position):
    """Distributed batches of the task's features, starting exactly where training left off.

    Every element carries its data position (built-in: the scene index; files: epoch *
    train records + rank within the epoch, counted before any filter, see
    data.get_train_stream). `position`, a checkpointed int64 variable, holds the position
    after the last consumed batch (-1 before the first: a checkpoint written without it
    restarts at start_step * batch, exact for unfiltered data) and is updated as batches
    are consumed.
    """
    tc = config.train
    saved = int(position.numpy())
    start = saved if saved >= 0 else start_step * tc.batch_size
    ds = task.train_stream(config, data_dir, start)
    batch = tc.batch_size

    def with_batch_position(elements):  # The position after the batch, on every row.
        next_position = tf.reduce_max(elements["position"]) + 1
        return {**task.features(elements), "position": tf.fill([batch], next_position)}

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
