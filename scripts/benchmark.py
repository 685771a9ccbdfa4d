"""Prints throughput figures measured side by side in one run.

For each preset: the training step's consumption (images/s, float32 and bfloat16) next to
what the input pipeline delivers from the built-in generator and from a GZIP TFRecord file
in the published format. Ratios within one run are what to compare; absolute times on a
shared 2-core CPU are noisy.

Example:
    python scripts/benchmark.py --presets=tetrominoes,multi_dsprites --steps=20
"""

import os
import tempfile
import time

from absl import app, flags

from keras_slots import cli

_PRESETS = flags.DEFINE_list("presets", ["tetrominoes", "multi_dsprites", "objects_room"],
                             "Presets to measure (clevr is slow on a CPU).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Training batch size.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed training steps (after 3 warm-up steps).")
_READ_IMAGES = flags.DEFINE_integer("read_images", 512, "Images timed per input pipeline.")


def train_images_per_second(model_config, compute_dtype, batch_size, steps):
    """Images/s of a full training step (forward, backward, Adam) on random images."""
    import keras
    import tensorflow as tf

    from keras_slots.training.loop import create_model, reconstruction_loss

    model = create_model(model_config, compute_dtype)
    optimizer = keras.optimizers.Adam(4e-4)
    images = tf.random.uniform([batch_size, *model_config.resolution, 3], -1.0, 1.0)

    @tf.function
    def step(seed):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(reconstruction_loss(images, model(images, seed=seed)["recon"]))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for i in range(3):
        step(tf.constant([0, i])).numpy()
    start = time.perf_counter()
    for i in range(steps):
        loss = step(tf.constant([1, i]))
    loss.numpy()
    return batch_size * steps / (time.perf_counter() - start)


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
    import numpy as np

    from keras_slots import config as config_lib
    from keras_slots import data
    from keras_slots import precision
    from keras_slots.data import formats, records

    for name in _PRESETS.value:
        try:
            config_lib.get_preset(name)
        except ValueError as e:
            raise app.UsageError(str(e))
    print("--precision=auto picks %s here (%s)" % precision.resolve("auto"))
    print("| preset | train f32 img/s | train bf16 img/s | bf16/f32 | generator img/s | "
          "TFRecord img/s | reader/train bf16 |")
    print("|---|---|---|---|---|---|---|")
    for name in _PRESETS.value:
        config = config_lib.get_preset(name)
        dataset_name = config.train.dataset
        f32 = train_images_per_second(config.model, "float32", _BATCH_SIZE.value, _STEPS.value)
        bf16 = train_images_per_second(config.model, "bfloat16", _BATCH_SIZE.value, _STEPS.value)
        generated = read_images_per_second(
            data.get_dataset(dataset_name, "train", num_examples=_READ_IMAGES.value),
            _BATCH_SIZE.value, _READ_IMAGES.value)
        with tempfile.TemporaryDirectory() as tmp:
            fmt = formats.get_format(dataset_name)
            generate = data.BUILTIN_GENERATORS[dataset_name]
            raw = [generate(np.random.default_rng([0, 0, i])) for i in range(_READ_IMAGES.value)]
            records.write_records(os.path.join(tmp, fmt.file_name), raw, fmt)
            from_file = read_images_per_second(
                records.read_dataset(dataset_name, "train", tmp, train_size=len(raw)),
                _BATCH_SIZE.value, _READ_IMAGES.value)
        print(f"| {name} | {f32:.1f} | {bf16:.1f} | {bf16 / f32:.2f} | {generated:.0f} | "
              f"{from_file:.0f} | {from_file / bf16:.0f}x |", flush=True)


if __name__ == "__main__":
    cli.run(main)
