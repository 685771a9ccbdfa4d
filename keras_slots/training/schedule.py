"""The paper's learning-rate schedule: linear warm-up times exponential decay."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_slots")
class WarmupExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = peak * min(1, step / warmup_steps) * decay_rate ** (step / decay_steps).

    As in the paper's code the decay factor also applies during the warm-up.

    Args:
        learning_rate: peak learning rate (paper: 4e-4).
        warmup_steps: linear warm-up length (paper: 10k; 0 disables it).
        decay_rate: multiplicative decay per `decay_steps` (paper: 0.5).
        decay_steps: steps per decay of `decay_rate` (paper: 100k).

    Example:
        >>> float(WarmupExponentialDecay(4e-4, 10, 0.5, 100)(10))  # doctest: +ELLIPSIS
        0.000373...
    """

    def __init__(self, learning_rate, warmup_steps, decay_rate, decay_steps):
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.minimum(1.0, step / float(max(self.warmup_steps, 1)))
        if self.warmup_steps <= 0:
            warmup = tf.constant(1.0)
        decay = tf.pow(float(self.decay_rate), step / float(self.decay_steps))
        return self.learning_rate * warmup * decay

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_rate": self.decay_rate,
            "decay_steps": self.decay_steps,
        }
