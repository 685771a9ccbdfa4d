"""Compute precision per machine: bfloat16 only where it measurably trains faster.

bfloat16 halves memory traffic and, where the hardware computes it well, runs a Slot
Attention train step 2-3x faster than float32; where it is emulated it is up to 11x slower,
and CPU flags do not tell which: an Intel Xeon that lists avx512_bf16 trains at 0.77x in
bfloat16. So `resolve("auto")` decides by device:

- GPU: bfloat16 for compute capability >= 8.0 (Ampere and newer), else float32.
- any CPU (x86-64 or ARM, any OS): a measurement. The train step of the paper's Tetrominoes
  model (forward, backward, Adam; batch 16) is timed in both precisions, interleaved; bfloat16
  is picked only if it is at least 1.2x faster. The result is cached per machine (CPU model,
  core count, TensorFlow version) in `~/.cache/keras_slots/precision.json` (or
  $KERAS_SLOTS_CACHE_DIR), so it costs a start-up once (10-30 s on a 2-core CPU).
"""

import datetime
import json
import os
import platform
import time

from keras_slots import files

PRECISIONS = ("auto", "float32", "bfloat16")
MIN_SPEEDUP = 1.2  # bfloat16 must be this much faster to be chosen.
CACHE_FILE = "precision.json"


def resolve(precision, *, measure=None, cache_dir=None, cpuinfo_path="/proc/cpuinfo"):
    """Turns a precision choice into the dtype to compute in on this machine.

    Args:
        precision: "auto", "float32" or "bfloat16".
        measure: () -> {"float32": steps/s, "bfloat16": steps/s}, the measurement "auto"
            makes on a CPU when the cache has none for this machine (default:
            `train_step_rates` of the Tetrominoes model); a parameter for tests.
        cache_dir: folder of the cache file (default: $KERAS_SLOTS_CACHE_DIR, else
            ~/.cache/keras_slots).
        cpuinfo_path: where the CPU's model name is read from on Linux.

    Returns:
        (dtype, reason): dtype is "float32" or "bfloat16"; reason is a short phrase for the
        start-up line, e.g. "auto: bf16 trains 2.41x as fast as f32 on AMD EPYC (2 cores),
        measured 2026-12-04".

    Raises:
        ValueError: for an unknown precision name.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision, f"{precision} requested"
    gpus = _gpus()
    if gpus:
        capability = _gpu_capability(gpus[0])
        if tuple(capability) >= (8, 0):
            return "bfloat16", f"auto: GPU compute capability {capability} has native bf16"
        return "float32", f"auto: GPU compute capability {capability} has no native bf16"
    entry = measured_speed(measure=measure, cache_dir=cache_dir, cpuinfo_path=cpuinfo_path)
    speedup = entry["bfloat16"] / entry["float32"]
    dtype = "bfloat16" if speedup >= MIN_SPEEDUP else "float32"
    return dtype, (f"auto: bf16 trains {speedup:.2f}x as fast as f32 on {entry['machine']}, "
                   f"measured {entry['measured']}")


def measured_speed(*, measure=None, cache_dir=None, cpuinfo_path="/proc/cpuinfo"):
    """This machine's float32 and bfloat16 train-step rates, from the cache or measured now.

    Args: as in `resolve`.

    Returns:
        dict with "float32" and "bfloat16" (steps/s), "machine" (the cache key) and
        "measured" (the date).
    """
    import tensorflow as tf

    machine = device_name(cpuinfo_path)
    family, model = (_cpuinfo_field(f, cpuinfo_path) for f in ("cpu family", "model\t"))
    key = (f"{machine}, family {family}, model {model}, {platform.machine()}, "
           f"tensorflow {tf.__version__}")
    path = os.path.join(cache_dir or _default_cache_dir(), CACHE_FILE)
    cache = _read_cache(path)
    if key in cache:
        return dict(cache[key], machine=machine)
    rates = (measure or train_step_rates)()
    entry = {"float32": float(rates["float32"]), "bfloat16": float(rates["bfloat16"]),
             "measured": datetime.date.today().isoformat()}
    cache[key] = entry
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        files.write_atomic(path, json.dumps(cache, indent=2, sort_keys=True))
    except OSError:
        pass  # An unwritable cache only means measuring again next time.
    return dict(entry, machine=machine)


def train_step_rates(model_config=None, batch_size=16, steps=4,
                     dtypes=("float32", "bfloat16")):
    """Train steps per second in float32 and bfloat16, timed alternately in this process.

    The step is forward, backward and Adam on one fixed random batch (the reconstruction
    loss of the autoencoder), so both precisions see the same machine load.

    Args:
        model_config: the autoencoder's ModelConfig (default: the paper's Tetrominoes one).
        batch_size: images per step.
        steps: timed steps per precision (after one untimed warm-up step each).
        dtypes: the compute dtypes to time.

    Returns:
        {dtype: steps/s (the median step's)} for each of `dtypes`.
    """
    import keras
    import tensorflow as tf

    from keras_slots.config import ModelConfig
    from keras_slots.models import create_model

    model_config = model_config or ModelConfig()
    images = tf.random.uniform([batch_size, *model_config.resolution, 3], -1.0, 1.0)

    def make_step(dtype):
        model = create_model(model_config, dtype, seed=0)
        optimizer = keras.optimizers.Adam(4e-4)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                recon = tf.cast(model(images)["recon"], tf.float32)  # [B, H, W, 3]
                loss = tf.reduce_mean(tf.square(recon - images))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        step().numpy()  # trace and warm up
        return step

    step_of = {dtype: make_step(dtype) for dtype in dtypes}
    seconds = {dtype: [] for dtype in step_of}
    for _ in range(steps):
        for dtype, step in step_of.items():
            start = time.perf_counter()
            step().numpy()
            seconds[dtype].append(time.perf_counter() - start)
    return {dtype: 1.0 / sorted(times)[len(times) // 2] for dtype, times in seconds.items()}


def _default_cache_dir():
    return os.environ.get("KERAS_SLOTS_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "keras_slots")


def _read_cache(path):
    """The cache's {machine key: entry}, or {} when it is missing or unreadable."""
    try:
        with open(path) as f:
            cache = json.load(f)
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _gpus():
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def _gpu_capability(gpu):
    import tensorflow as tf

    return tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)))


def device_name(cpuinfo_path="/proc/cpuinfo"):
    """A short name of the machine's compute device, e.g. 'GPU:0' or 'AMD EPYC (2 cores)'."""
    if _gpus():
        return "GPU:0"
    name = _cpuinfo_field("model name", cpuinfo_path)
    return f"{name or platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def _cpuinfo_field(key, cpuinfo_path):
    """The value of the first `key : value` line of /proc/cpuinfo, or None."""
    try:
        with open(cpuinfo_path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None
