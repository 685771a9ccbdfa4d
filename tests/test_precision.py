"""Precision per machine: explicit choices, CPU flags, GPU capability, the measured probe."""

import pytest

from keras_slots import precision
from keras_slots.config import PRESETS

ZEN4 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
ZEN3 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n"
SAPPHIRE_RAPIDS = "flags\t\t: avx2 avx512f amx_tile amx_bf16 amx_int8\n"


@pytest.fixture
def x86_cpu(monkeypatch, tmp_path):
    """A CPU-only x86-64 machine whose /proc/cpuinfo says what the test writes."""
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(precision, "_gpus", lambda: [])

    def write(text):
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        return str(path)

    return write


@pytest.mark.parametrize("choice", ["float32", "bfloat16"])
def test_explicit_choice_is_kept(choice, x86_cpu):
    dtype, reason = precision.resolve(choice, cpuinfo_path=x86_cpu(ZEN3))
    assert dtype == choice and "requested" in reason


@pytest.mark.parametrize("cpuinfo, expected, named", [
    (ZEN4, "bfloat16", "avx512_bf16"),
    (SAPPHIRE_RAPIDS, "bfloat16", "amx_bf16"),
    (ZEN3, "float32", "lacks"),
])
def test_auto_reads_cpu_flags(cpuinfo, expected, named, x86_cpu, monkeypatch):
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: pytest.fail("probe ran"))
    dtype, reason = precision.resolve("auto", cpuinfo_path=x86_cpu(cpuinfo))
    assert dtype == expected and named in reason


@pytest.mark.parametrize("speedup, expected", [(2.5, "bfloat16"), (1.1, "float32"),
                                               (0.09, "float32")])
def test_auto_probes_where_flags_do_not_decide(speedup, expected, monkeypatch):
    monkeypatch.setattr(precision.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(precision, "_gpus", lambda: [])
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: speedup)
    dtype, reason = precision.resolve("auto")
    assert dtype == expected and f"{speedup:.2f}x" in reason


@pytest.mark.parametrize("capability, expected", [((8, 0), "bfloat16"), ((9, 0), "bfloat16"),
                                                  ((7, 0), "float32")])
def test_auto_on_gpu_follows_compute_capability(capability, expected, monkeypatch):
    monkeypatch.setattr(precision, "_gpus", lambda: ["GPU:0"])
    monkeypatch.setattr(precision, "_gpu_capability", lambda gpu: capability)
    dtype, reason = precision.resolve("auto", cpuinfo_path="/nonexistent")
    assert dtype == expected and str(capability) in reason


def test_unreadable_cpuinfo_falls_back_to_the_probe(monkeypatch):
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(precision, "_gpus", lambda: [])
    monkeypatch.setattr(precision, "probe_bf16_speedup", lambda: 0.5)
    assert precision.resolve("auto", cpuinfo_path="/nonexistent")[0] == "float32"


def test_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve("float16")


def test_probe_measures_a_positive_ratio():
    assert precision.probe_bf16_speedup(repeats=1) > 0


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_no_preset_forces_a_precision(name):
    assert PRESETS[name].train.precision == "auto"
