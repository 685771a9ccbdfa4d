"""The interface between a task (model, loss, summaries, evaluation) and the training loop."""

import tensorflow as tf


class Task:
    """What `training.loop.train` asks of a task.

    The loop owns everything else: distribution, the input stream and its resume position,
    the optimizer and schedule, the per-step slot noise, checkpoints, the NaN check, scalar
    summaries and the progress bar. A task only says how its model is built, what a step
    reads from a batch and how it is scored; a new task subclasses this without touching the
    loop.
    """

    def build_model(self, model_config, compute_dtype="float32", seed=None):
        """Builds the model and creates its weights.

        Args:
            model_config: the run's ModelConfig.
            compute_dtype: "float32" or "bfloat16".
            seed: seed of the slot noise when calls pass no explicit seed.

        Returns:
            A built keras.Model.
        """
        raise NotImplementedError

    def train_stream(self, config, data_dir, start_position):
        """The infinite stream of training elements, each with its int64 "position".

        The default is the dataset registry's stream of `config.train.dataset`; a task
        whose data lives elsewhere overrides it. The position of an element is the one a
        stream started at `start_position` = (position after the last element consumed)
        resumes from (see data.get_train_stream).

        Args:
            config: the run's Config.
            data_dir: folder of dataset files, or None for built-in data.
            start_position: position of the first element.

        Returns:
            Unbatched tf.data.Dataset of dicts with "position" int64 [].
        """
        from keras_slots import data as data_lib

        return data_lib.get_train_stream(config.train.dataset, data_dir=data_dir,
                                         seed=config.train.seed,
                                         start_position=start_position,
                                         shuffle=config.train.shuffle)

    def features(self, elements):
        """Picks what a training step reads from a batch of dataset elements.

        Runs inside tf.data (traced), on batched elements of the train split.

        Args:
            elements: dict of batched tensors (image [B, H, W, 3], mask, ... per dataset).

        Returns:
            dict of tensors, each with the batch as its first axis.
        """
        raise NotImplementedError

    def loss(self, model, features, slot_noise):
        """The per-example training loss of one replica's share of a batch.

        Args:
            model: the task's model.
            features: `features` output for this replica's examples.
            slot_noise: [B, K, D] standard normal noise of the initial slots, drawn by the loop
                from (seed, step) so that a run does not depend on the number of replicas.

        Returns:
            float32 [B] loss of every example; the loop averages it over the global batch.
        """
        raise NotImplementedError

    def make_evaluation(self, model, train_config, data_dir=None):
        """The periodic evaluation the loop runs every `eval_every` steps, if any.

        Args:
            model: the task's model.
            train_config: the run's TrainConfig.
            data_dir: folder of published dataset files, or None for built-in data.

        Returns:
            None (no evaluation), or a function () -> dict of metric name -> float, logged
            as eval/<name> and shown on the progress bar.
        """
        return None

    def make_summaries(self, model, train_config, data_dir=None):
        """The task's own TensorBoard summaries, written every `image_every` steps by the chief.

        Args:
            model: the task's model.
            train_config: the run's TrainConfig.
            data_dir: folder of published dataset files, or None for built-in data.

        Returns:
            None, or a function () -> None writing summaries into the default writer (the loop
            sets the writer and the step).
        """
        return None


def seeded_predict(model, seed):
    """The model as a tf.function of the images, with the slot noise seeded by (seed, 0)."""

    @tf.function
    def predict(images):
        return model(images, seed=tf.constant([seed, 0], tf.int32))

    return predict
