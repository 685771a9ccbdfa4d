"""Strategy selection: --strategy=auto and the chief / worker split."""

import json

import pytest
import tensorflow as tf

from keras_slots.training import distribute


def test_auto_on_a_lone_device_without_tf_config_is_the_default_strategy(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        pytest.skip("several GPUs: auto picks MirroredStrategy here")
    strategy = distribute.make_strategy("auto")
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1 and distribute.is_chief(strategy)


def test_auto_with_a_one_worker_cluster_is_not_multi_worker(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}))
    if len(tf.config.list_logical_devices("GPU")) > 1:
        pytest.skip("several GPUs: auto picks MirroredStrategy here")
    strategy = distribute.make_strategy("auto")
    assert not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    assert strategy is tf.distribute.get_strategy()


def test_unknown_strategy_and_multi_worker_without_cluster_are_rejected(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="unknown strategy 'tpu'"):
        distribute.make_strategy("tpu")
    with pytest.raises(ValueError, match="needs TF_CONFIG"):
        distribute.make_strategy("multi_worker")
