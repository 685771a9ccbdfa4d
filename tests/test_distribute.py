"""Strategy selection: --strategy=auto and the chief / worker split."""

import json
import types

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


def test_num_workers_counts_the_chief_and_the_workers_of_the_cluster():
    spec = tf.train.ClusterSpec({"chief": ["127.0.0.1:1"],
                                 "worker": ["127.0.0.1:2", "127.0.0.1:3"]})
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        spec, task_type="worker", task_id=1)
    strategy = types.SimpleNamespace(cluster_resolver=resolver)
    assert distribute.num_workers(strategy) == 3
    assert not distribute.is_chief(strategy)
    assert distribute.num_workers(tf.distribute.get_strategy()) == 1


def test_one_worker_stops_on_its_own_request_without_communicating():
    from keras_slots.training import loop

    agree = loop._make_stop_agreement(tf.distribute.get_strategy())
    assert agree(True) is True and agree(False) is False
