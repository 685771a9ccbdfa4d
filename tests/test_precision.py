"""Precision per machine: explicit choices, GPU capability, and the measured, cached CPU rule."""

import json

import pytest

from keras_slots import precision
from keras_slots.config import PRESETS

# The CPU kinds seen so far, with their measured bare Tetrominoes step (img/s at batch 16).
ZEN4 = ("model name\t: AMD EPYC\ncpu family\t: 25\nmodel\t\t: 17\n"
        "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
INTEL = ("model name\t: Intel(R) Xeon(R) Processor\ncpu family\t: 6\nmodel\t\t: 207\n"
         "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_fp16 avx512_vnni\n")
ZEN3 = "model name\t: AMD EPYC\ncpu family\t: 25\nmodel\t\t: 1\nflags\t\t: fpu avx2 fma\n"


@pytest.fixture
def cpu(monkeypatch, tmp_path):
    """A CPU-only machine whose /proc/cpuinfo says what the test writes; returns
    write(text) -> the keyword arguments for `resolve` (cpuinfo path, empty cache)."""
    monkeypatch.setattr(precision, "_gpus", lambda: [])

    def write(text, cache="cache"):
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        return {"cpuinfo_path": str(path), "cache_dir": str(tmp_path / cache)}

    return write


def timer(float32, bfloat16, calls=None):
    """A fake measurement: these img/s (as steps/s), counting its calls in `calls`."""
    def measure():
        if calls is not None:
            calls.append(1)
        return {"float32": float32 / 16, "bfloat16": bfloat16 / 16}
    return measure


@pytest.mark.parametrize("choice", ["float32", "bfloat16"])
def test_explicit_choice_is_kept(choice, cpu):
    dtype, reason = precision.resolve(choice, measure=timer(1, 1), **cpu(ZEN3))
    assert dtype == choice and "requested" in reason


@pytest.mark.parametrize("cpuinfo, float32, bfloat16, expected", [
    (ZEN4, 23.6, 56.0, "bfloat16"),   # Zen 4, 1 core: bf16 2.4x
    (INTEL, 62.5, 47.9, "float32"),   # avx512_bf16 listed, yet bf16 is 0.77x
    (ZEN3, 12.3, 1.1, "float32"),     # bf16 emulated, 11x slower
])
def test_auto_follows_the_measured_step_not_the_flags(cpuinfo, float32, bfloat16, expected,
                                                      cpu):
    """The Intel case failed before: avx512_bf16 in the flags picked bfloat16 unmeasured."""
    dtype, reason = precision.resolve("auto", measure=timer(float32, bfloat16), **cpu(cpuinfo))
    assert dtype == expected
    assert f"{bfloat16 / float32:.2f}x" in reason


@pytest.mark.parametrize("speedup, expected", [(1.21, "bfloat16"), (1.19, "float32")])
def test_bfloat16_needs_a_clear_gain(speedup, expected, cpu):
    assert precision.resolve("auto", measure=timer(10, 10 * speedup), **cpu(ZEN4))[0] == expected


def test_measurement_is_cached_per_machine_and_tensorflow_version(cpu, tmp_path):
    calls = []
    first = precision.resolve("auto", measure=timer(10, 24, calls), **cpu(ZEN4))
    again = precision.resolve("auto", measure=timer(10, 1, calls), **cpu(ZEN4))
    assert calls == [1] and again == first  # the second start-up read the cache
    other = precision.resolve("auto", measure=timer(10, 1, calls), **cpu(ZEN3))
    assert calls == [1, 1] and other[0] == "float32"  # another CPU model measures anew
    cache = json.loads((tmp_path / "cache" / precision.CACHE_FILE).read_text())
    assert len(cache) == 2
    import tensorflow as tf

    assert all(f"tensorflow {tf.__version__}" in key for key in cache)
    assert any("family 25, model 17" in key for key in cache)


def test_unwritable_cache_still_resolves(cpu, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    args = cpu(ZEN4)
    args["cache_dir"] = str(blocker / "cache")
    assert precision.resolve("auto", measure=timer(10, 30), **args)[0] == "bfloat16"


def test_corrupt_cache_is_measured_again(cpu, tmp_path):
    args = cpu(ZEN4)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / precision.CACHE_FILE).write_text("{not json")
    calls = []
    assert precision.resolve("auto", measure=timer(10, 30, calls), **args)[0] == "bfloat16"
    assert calls == [1]


@pytest.mark.parametrize("capability, expected", [((8, 0), "bfloat16"), ((9, 0), "bfloat16"),
                                                  ((7, 0), "float32")])
def test_auto_on_gpu_follows_compute_capability(capability, expected, monkeypatch):
    monkeypatch.setattr(precision, "_gpus", lambda: ["GPU:0"])
    monkeypatch.setattr(precision, "_gpu_capability", lambda gpu: capability)
    dtype, reason = precision.resolve("auto", measure=lambda: pytest.fail("measured"),
                                      cpuinfo_path="/nonexistent")
    assert dtype == expected and str(capability) in reason


def test_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve("float16")


def test_the_real_measurement_times_both_precisions():
    from keras_slots.config import ModelConfig

    small = ModelConfig(resolution=(8, 8), decoder_initial_resolution=(8, 8))
    rates = precision.train_step_rates(small, batch_size=2, steps=1)
    assert set(rates) == {"float32", "bfloat16"} and min(rates.values()) > 0


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_preset_forces_a_precision(name):
    assert PRESETS[name].train.precision == "auto"
