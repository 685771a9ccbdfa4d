"""The paper's learning-rate schedule: linear warm-up times exponential decay, with an
optional linear cool-down to 0 over the last steps of a run."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_slots")
class WarmupExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = peak * min(1, step / warmup_steps) * decay_rate ** (step / decay_steps).

    As in the paper's code the decay factor also applies during the warm-up. With
    `cooldown_steps` > 0 the rate is further multiplied by
    clip((num_steps - step) / cooldown_steps, 0, 1): it falls linearly to 0 over the last
    `cooldown_steps` steps of the run.

    Args:
        learning_rate: peak learning rate (paper: 4e-4).
        warmup_steps: linear warm-up length (paper: 10k; 0 disables it).
        decay_rate: multiplicative decay per `decay_steps` (paper: 0.5).
        decay_steps: steps per decay of `decay_rate` (paper: 100k).
        cooldown_steps: length of the final linear cool-down (paper: 0, none).
        num_steps: the step the cool-down reaches 0 at; needed when cooldown_steps > 0.

    Example:
        >>> float(WarmupExponentialDecay(4e-4, 10, 0.5, 100)(10))  # doctest: +ELLIPSIS
        0.000373...
        >>> float(WarmupExponentialDecay(4e-4, 0, 0.5, 100, 100, 200)(150))  # doctest: +ELLIPSIS
        7.07...e-05
    """

    def __init__(self, learning_rate, warmup_steps, decay_rate, decay_steps, cooldown_steps=0,
                 num_steps=None):
        if cooldown_steps > 0 and num_steps is None:
            raise ValueError("a cool-down needs num_steps, the step it ends at")
        self.learning_rate = learning_rate
        self.warmup_steps = warmup_steps
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.cooldown_steps = cooldown_steps
        self.num_steps = num_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.minimum(1.0, step / float(max(self.warmup_steps, 1)))
        if self.warmup_steps <= 0:
            warmup = tf.constant(1.0)
        decay = tf.pow(float(self.decay_rate), step / float(self.decay_steps))
        rate = self.learning_rate * warmup * decay
        if self.cooldown_steps > 0:
            rate *= tf.clip_by_value((float(self.num_steps) - step) / self.cooldown_steps,
                                     0.0, 1.0)
        return rate

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_rate": self.decay_rate,
            "decay_steps": self.decay_steps,
            "cooldown_steps": self.cooldown_steps,
            "num_steps": self.num_steps,
        }
