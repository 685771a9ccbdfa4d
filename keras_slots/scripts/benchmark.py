"""Prints throughput figures measured side by side in one run.

For each preset: the training step's consumption in images/s, float32 and bfloat16, twice:
the bare model step (forward, backward, Adam on one fixed batch) and the step that
`training.loop.train` runs (input pipeline, distribution strategy, NaN check and host
synchronisation included), the latter with one step per tf.function call and with
--steps_per_call steps per call; next to them what the input pipeline delivers from the
built-in generator and from a GZIP TFRecord file in the published format. Ratios within one
run are what to compare; absolute times on a shared CPU are noisy.

Example:
    python scripts/benchmark.py --presets=tetrominoes,multi_dsprites --steps=20
"""

import dataclasses
import os
import tempfile
import time

from absl import app, flags

from keras_slots import cli

_PRESETS = flags.DEFINE_list("presets", ["tetrominoes", "multi_dsprites", "objects_room"],
                             "Presets to measure (clevr is slow on a CPU).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Training batch size.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed training steps (after 3 warm-up steps).")
_STEPS_PER_CALL = flags.DEFINE_integer("steps_per_call", None,
                                       "Loop steps per call compared with 1 (default: the "
                                       "TrainConfig default).")
_READ_IMAGES = flags.DEFINE_integer("read_images", 512, "Images timed per input pipeline.")
_PRECISIONS = flags.DEFINE_list("precisions", ["float32", "bfloat16"], "Compute dtypes timed.")


def loop_images_per_second(config, compute_dtype, batch_size, steps, steps_per_call):
    """Images/s of `training.loop.run` for 1 and for `steps_per_call` steps per call.

    One run is set up (in a temporary folder, no evaluation, no summaries or checkpoints
    inside the timed steps), warmed up with both, then timed alternately, so that both see
    the same machine load.

    Returns:
        (images/s at 1 step per call, images/s at steps_per_call).
    """
    from keras_slots.training import loop

    big = 10**9  # No logging, image or checkpoint step inside the timed range.
    config = config.override(**{
        "train.batch_size": batch_size, "train.precision": compute_dtype,
        "train.eval_examples": 0, "train.log_every": big, "train.image_every": big,
        "train.checkpoint_every": big})
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet:
        state = loop.set_up(config, tmp)
        state.manager = _NoSave()  # The final step of a run saves; not a step cost.

        def seconds_for(num_steps, per_call):
            tc = dataclasses.replace(config.train, steps_per_call=per_call,
                                     num_steps=int(state.step.numpy()) + num_steps)
            start = time.perf_counter()
            loop.run(state, tc, stream=quiet)
            return time.perf_counter() - start

        for per_call in (1, steps_per_call):  # Warm-up: tracing, pipeline start.
            seconds_for(3, per_call)
        half = max(1, steps // 2)
        seconds = {1: 0.0, steps_per_call: 0.0}
        for _ in range(2):  # Alternating halves: both variants see the same machine load.
            for per_call in (1, steps_per_call):
                seconds[per_call] += seconds_for(half, per_call)
    images = batch_size * 2 * half
    return images / seconds[1], images / seconds[steps_per_call]


class _NoSave:
    def save(self, **_):
        return None


def read_images_per_second(dataset, batch_size, count):
    """Images/s delivered by a dataset batched like training (images only)."""
    batches = dataset.batch(batch_size).map(lambda e: e["image"]).take(count // batch_size)
    next(iter(batches.take(1)))  # start-up (file checks, tracing) not timed
    start = time.perf_counter()
    n = sum(int(b.shape[0]) for b in batches)
    return n / (time.perf_counter() - start)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    cli.require_at_least_one(_BATCH_SIZE, _STEPS, _STEPS_PER_CALL, _READ_IMAGES)

    from keras_slots import config as config_lib
    from keras_slots import data
    from keras_slots import precision
    from keras_slots.data import records, registry, seeding

    try:
        presets = [config_lib.get_preset(name) for name in _PRESETS.value]
    except ValueError as e:
        raise app.UsageError(str(e))
    for dtype in _PRECISIONS.value:
        if dtype not in ("float32", "bfloat16"):
            raise app.UsageError(f"--precisions: unknown dtype {dtype!r}")
    per_call = _STEPS_PER_CALL.value or config_lib.TrainConfig().steps_per_call
    print("--precision=auto picks %s here (%s)" % precision.resolve("auto"))
    print(f"batch {_BATCH_SIZE.value}, {_STEPS.value} timed steps; loop: 1 vs {per_call} "
          f"steps per tf.function call, timed alternately in this run")
    columns = []
    for dtype in _PRECISIONS.value:
        short = "f32" if dtype == "float32" else "bf16"
        columns += [f"bare {short}", f"loop {short} x1", f"loop {short} x{per_call}"]
    print("| preset | " + " | ".join(f"{c} img/s" for c in columns)
          + " | generator img/s | TFRecord img/s |")
    print("|---" * (len(columns) + 3) + "|")
    for config in presets:
        cells = []
        bare = precision.train_step_rates(config.model, _BATCH_SIZE.value, _STEPS.value,
                                          dtypes=_PRECISIONS.value)  # steps/s, alternated
        for dtype in _PRECISIONS.value:
            cells.append(bare[dtype] * _BATCH_SIZE.value)
            cells.extend(loop_images_per_second(config, dtype, _BATCH_SIZE.value,
                                                _STEPS.value, per_call))
        dataset_name = config.train.dataset
        generated = read_images_per_second(
            data.get_dataset(dataset_name, "train", num_examples=_READ_IMAGES.value),
            _BATCH_SIZE.value, _READ_IMAGES.value)
        with tempfile.TemporaryDirectory() as tmp:
            info = registry.get(dataset_name)
            fmt = info.file_format
            raw = [info.generate(seeding.scene_rng(0, "train", i))
                   for i in range(_READ_IMAGES.value)]
            records.write_records(os.path.join(tmp, fmt.file_name), raw, fmt)
            from_file = read_images_per_second(
                records.read_dataset(dataset_name, "train", tmp, train_size=len(raw)),
                _BATCH_SIZE.value, _READ_IMAGES.value)
        print(f"| {config.name} | " + " | ".join(f"{c:.1f}" for c in cells)
              + f" | {generated:.0f} | {from_file:.0f} |", flush=True)


if __name__ == "__main__":
    cli.run(main)
