"""Choosing a tf.distribute strategy and telling the chief from the other workers."""

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")


def make_strategy(name="auto"):
    """Creates the distribution strategy.

    Args:
        name: "auto" (MultiWorkerMirroredStrategy if TF_CONFIG names several workers,
            else MirroredStrategy over the visible GPUs, or the default strategy on a lone
            device), "default", "mirrored" (all visible GPUs, or all logical CPUs when there is
            no GPU) or "multi_worker" (from TF_CONFIG).

    Returns:
        A tf.distribute.Strategy.

    Raises:
        ValueError: for an unknown name or "multi_worker" without TF_CONFIG.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {list(STRATEGIES)}")
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    num_workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    if name == "multi_worker" or (name == "auto" and num_workers > 1):
        if not cluster:
            raise ValueError("strategy 'multi_worker' needs TF_CONFIG with a cluster spec")
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO
        )
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored":
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy):
    """True on the worker that writes summaries, checkpoints and exports."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in resolver.cluster_spec().as_dict())


def num_workers(strategy):
    """How many worker processes the strategy spans (1 without a cluster spec)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, len(spec.get("worker", [])) + len(spec.get("chief", [])))


def worker_dir(model_dir, strategy):
    """The chief writes into model_dir; other workers into a scratch dir beside it."""
    if is_chief(strategy):
        return model_dir
    resolver = strategy.cluster_resolver
    return os.path.join(model_dir, "workers", f"{resolver.task_type}_{resolver.task_id}")
