"""Compute precision per machine: float32, or bfloat16 only where the device computes it natively.

bfloat16 halves memory traffic and, on hardware with bf16 arithmetic, runs a Slot Attention
train step 2-3x faster than float32. Where bf16 is emulated (x86 CPUs without AVX512_BF16 or
AMX, such as AMD Zen 3 or most laptops before 2023; GPUs before NVIDIA Ampere) it is up to 11x
*slower*. `resolve("auto")` decides from the device:

- GPU: bfloat16 for compute capability >= 8.0 (Ampere and newer), else float32.
- x86-64 Linux CPU: bfloat16 iff /proc/cpuinfo lists avx512_bf16 or amx_bf16.
- any other CPU (ARM, macOS, Windows): a short measured probe (~1 s): a convolution timed in
  both precisions; bfloat16 is picked only if it is at least 1.2x faster.
"""

import functools
import os
import platform
import time

PRECISIONS = ("auto", "float32", "bfloat16")
_NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
_PROBE_MIN_SPEEDUP = 1.2


def keras_policy(dtype):
    """The Keras dtype policy of a resolved precision: weights stay float32 in both cases."""
    return "mixed_bfloat16" if dtype == "bfloat16" else "float32"


def resolve(precision, cpuinfo_path="/proc/cpuinfo"):
    """Turns a precision choice into the dtype to compute in on this machine.

    Args:
        precision: "auto", "float32" or "bfloat16".
        cpuinfo_path: where the CPU flags are read from on Linux (a parameter for tests).

    Returns:
        (dtype, reason): dtype is "float32" or "bfloat16"; reason is a short phrase for the
        start-up line, e.g. "auto: CPU has avx512_bf16 (native bf16)".

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
    flags = cpu_flags(cpuinfo_path)
    if flags is not None:
        native = [f for f in _NATIVE_BF16_FLAGS if f in flags]
        if native:
            return "bfloat16", f"auto: CPU has {native[0]} (native bf16)"
        return "float32", "auto: CPU lacks avx512_bf16/amx_bf16 (bf16 would be emulated, slower)"
    speedup = probe_bf16_speedup()
    dtype = "bfloat16" if speedup >= _PROBE_MIN_SPEEDUP else "float32"
    return dtype, f"auto: measured bf16/f32 speed-up {speedup:.2f}x on this CPU"


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


def cpu_flags(cpuinfo_path="/proc/cpuinfo"):
    """The CPU feature flags of an x86-64 Linux machine, or None where they do not decide.

    Returns:
        A set of flag names, or None off x86-64 Linux or when the file cannot be read.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    flags = _cpuinfo_field("flags", cpuinfo_path)
    return None if flags is None else set(flags.split())


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


@functools.lru_cache(maxsize=None)
def probe_bf16_speedup(repeats=5):
    """Times one 5x5 convolution (a Slot Attention decoder layer) in float32 and bfloat16.

    Returns:
        float32 time / bfloat16 time (best of `repeats` each): > 1 means bf16 is faster. The
        result is cached: a process measures once.
    """
    import tensorflow as tf

    def best_time(dtype):
        x = tf.random.normal([16, 35, 35, 32], dtype=dtype)  # [B, H, W, C]
        w = tf.random.normal([5, 5, 32, 32], dtype=dtype)  # [kh, kw, C_in, C_out]
        conv = tf.function(lambda: tf.nn.conv2d(x, w, 1, "SAME"))
        conv().numpy()  # trace and warm up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            conv().numpy()
            best = min(best, time.perf_counter() - start)
        return best

    return best_time(tf.float32) / best_time(tf.bfloat16)
