"""The warm-up + exponential decay learning-rate schedule and its cool-down."""

import numpy as np
import pytest
import tensorflow as tf

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


def test_cooldown_falls_linearly_to_zero_over_the_last_steps():
    schedule = WarmupExponentialDecay(4e-4, 500, 0.5, 50_000, cooldown_steps=6_000,
                                      num_steps=35_000)
    for step in (0, 250, 28_999, 29_000, 30_000, 32_000, 34_999, 35_000, 40_000):
        paper = 4e-4 * min(1.0, step / 500) * 0.5 ** (step / 50_000)
        factor = min(1.0, max(0.0, (35_000 - step) / 6_000))
        np.testing.assert_allclose(float(schedule(step)), paper * factor, rtol=1e-4, atol=1e-12)
    assert float(schedule(35_000)) == 0.0
    assert WarmupExponentialDecay(**schedule.get_config()).get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="needs num_steps"):
        WarmupExponentialDecay(4e-4, 0, 0.5, 10, cooldown_steps=5)


def test_cooldown_is_a_config_field_the_loop_uses(tmp_path):
    from keras_slots.training import loop
    from tests.conftest import tiny_config

    with pytest.raises(ValueError, match="cooldown_steps must be zero or positive"):
        tiny_config(**{"train.cooldown_steps": -1})
    config = tiny_config(**{"train.num_steps": 4, "train.warmup_steps": 0,
                            "train.cooldown_steps": 2, "train.eval_examples": 0})
    loop.train(config, str(tmp_path / "run"))
    # The rate the loop logged at its last step (4) is the cool-down's 0.
    logged = {}
    for path in (tmp_path / "run" / "train").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "learning_rate":
                    logged[event.step] = float(tf.make_ndarray(value.tensor))
    assert logged[4] == 0.0
