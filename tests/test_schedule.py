"""The warm-up + exponential decay learning-rate schedule."""

import numpy as np

from keras_slots.training.schedule import WarmupExponentialDecay


def test_matches_the_paper_formula():
    schedule = WarmupExponentialDecay(4e-4, 10_000, 0.5, 100_000)
    for step in (0, 1, 5_000, 10_000, 50_000, 100_000, 500_000):
        expected = 4e-4 * min(1.0, step / 10_000) * 0.5 ** (step / 100_000)
        np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-5)


def test_no_warmup_and_config():
    schedule = WarmupExponentialDecay(1e-3, 0, 0.5, 10)
    np.testing.assert_allclose(float(schedule(0)), 1e-3)
    np.testing.assert_allclose(float(schedule(10)), 5e-4, rtol=1e-6)
    assert WarmupExponentialDecay(**schedule.get_config()).get_config() == schedule.get_config()
