"""Hungarian Huber loss: brute force over permutations, gradients, tf.function, strategies."""

import itertools
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_slots.set_prediction import loss


def brute_force(target, pred):
    """Smallest summed cost over every injective target -> slot map, per image, with the
    pairwise cost from keras.losses.Huber (independent of the library's cost)."""
    huber = keras.losses.Huber(delta=1.0, reduction=None)
    best_costs, best_maps = [], []
    for t_set, p_set in zip(target, pred):
        cost = np.array([[float(huber(t[None], p[None])[0]) for p in p_set] for t in t_set])
        best = min(itertools.permutations(range(len(p_set)), len(t_set)),
                   key=lambda slots: sum(cost[i, k] for i, k in enumerate(slots)))
        best_costs.append(sum(cost[i, k] for i, k in enumerate(best)))
        best_maps.append(best)
    return np.array(best_costs), best_maps


def random_sets(seed, batch, num_targets, num_slots, dim=19, scale=1.5):
    rng = np.random.default_rng(seed)
    target = rng.uniform(0, 1, (batch, num_targets, dim)).astype("float32")
    pred = rng.normal(0.5, scale, (batch, num_slots, dim)).astype("float32")  # some |e| > 1
    return target, pred


def test_pairwise_cost_is_keras_huber_of_each_pair():
    target, pred = random_sets(0, 2, 3, 4)
    cost = loss.pairwise_huber_cost(target, pred).numpy()  # [2, 3, 4]
    huber = keras.losses.Huber(delta=1.0, reduction=None)
    for b, t, k in itertools.product(range(2), range(3), range(4)):
        expected = float(huber(target[b, t][None], pred[b, k][None])[0])
        assert cost[b, t, k] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("num_targets,num_slots", [(4, 4), (5, 5), (3, 5)])
def test_matches_brute_force_search(num_targets, num_slots):
    target, pred = random_sets(num_targets * 10 + num_slots, 6, num_targets, num_slots)
    expected, maps = brute_force(target, pred)
    got = loss.hungarian_huber_loss(target, pred).numpy()  # [6]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    rows, cols = loss.hungarian_match(loss.pairwise_huber_cost(target, pred))
    np.testing.assert_array_equal(rows.numpy(), np.tile(np.arange(num_targets), (6, 1)))
    np.testing.assert_array_equal(cols.numpy(), np.array(maps))


def test_permuting_the_slots_leaves_the_loss_unchanged():
    target, pred = random_sets(1, 3, 10, 10)
    shuffled = pred[:, np.random.default_rng(2).permutation(10)]
    np.testing.assert_allclose(loss.hungarian_huber_loss(target, pred).numpy(),
                               loss.hungarian_huber_loss(target, shuffled).numpy(), rtol=1e-6)
    assert np.all(loss.hungarian_huber_loss(target, target).numpy() == 0.0)


def test_gradient_flows_through_the_matched_pairs_only():
    target, pred = random_sets(3, 4, 3, 5)
    _, maps = brute_force(target, pred)
    pred_var = tf.Variable(pred)
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(loss.hungarian_huber_loss(target, pred_var))
    grad = tape.gradient(value, pred_var).numpy()  # [4, 5, 19]
    # The same value written with the brute-force matching as fixed pairs.
    with tf.GradientTape() as tape:
        fixed = tf.reduce_mean(tf.stack([
            tf.add_n([loss.pairwise_huber_cost(target[b:b + 1, t:t + 1],
                                               pred_var[b:b + 1, k:k + 1])[0, 0, 0]
                      for t, k in enumerate(maps[b])])
            for b in range(4)]))
    np.testing.assert_allclose(value.numpy(), fixed.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad, tape.gradient(fixed, pred_var).numpy(), atol=1e-7)
    for b in range(4):
        unmatched = sorted(set(range(5)) - set(maps[b]))
        assert np.all(grad[b, unmatched] == 0.0)
        assert np.all(np.abs(grad[b, list(maps[b])]).sum(axis=-1) > 0)


def test_runs_inside_tf_function_with_unknown_batch_size():
    @tf.function(input_signature=[tf.TensorSpec([None, 10, 19]), tf.TensorSpec([None, 10, 19])])
    def step(target, pred):
        with tf.GradientTape() as tape:
            tape.watch(pred)
            value = tf.reduce_mean(loss.hungarian_huber_loss(target, pred))
        return value, tape.gradient(value, pred)

    for batch in (2, 5):
        target, pred = random_sets(batch, batch, 10, 10)
        value, grad = step(target, pred)
        assert value.numpy() == pytest.approx(
            np.mean(loss.hungarian_huber_loss(target, pred).numpy()), rel=1e-6)
        assert grad.shape == (batch, 10, 19) and np.all(np.isfinite(grad.numpy()))
    assert len(step.get_concrete_function().graph.get_operations()) > 0


def test_runs_in_a_replica_context():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    target, pred = random_sets(7, 4, 10, 10)

    @tf.function
    def step(target, pred):
        def replica_fn(target, pred):
            per_image = loss.hungarian_huber_loss(target, pred)
            return tf.nn.compute_average_loss(per_image, global_batch_size=4)
        per_replica = strategy.run(replica_fn, args=(target, pred))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    expected = np.mean(loss.hungarian_huber_loss(target, pred).numpy())
    assert step(tf.constant(target), tf.constant(pred)).numpy() == pytest.approx(expected, rel=1e-6)


def test_rejects_non_finite_costs():
    target, pred = random_sets(8, 1, 2, 2)
    pred[0, 0, 0] = np.nan
    for call in (loss.hungarian_huber_loss, tf.function(loss.hungarian_huber_loss)):
        with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="NaN or inf"):
            call(target, pred)


@pytest.mark.slow
def test_mirrored_strategy_over_two_devices_matches_one_device():
    """Two logical CPU devices: each replica matches its half of the batch on the host."""
    script = textwrap.dedent("""
        import numpy as np
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from keras_slots.set_prediction import loss
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        rng = np.random.default_rng(0)
        target = rng.uniform(0, 1, (8, 10, 19)).astype("float32")
        pred = tf.Variable(rng.uniform(0, 1, (8, 10, 19)).astype("float32"))
        data = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices(target).batch(8))

        @tf.function
        def step(batch):
            def replica_fn(target):
                ctx = tf.distribute.get_replica_context()
                size = tf.shape(target)[0]
                start = ctx.replica_id_in_sync_group * size
                with tf.GradientTape() as tape:
                    mine = pred[start:start + size]
                    value = tf.nn.compute_average_loss(
                        loss.hungarian_huber_loss(target, mine), global_batch_size=8)
                return value, tape.gradient(value, pred)
            value, grad = strategy.run(replica_fn, args=(batch,))
            return (strategy.reduce("SUM", value, axis=None),
                    strategy.reduce("SUM", grad, axis=None))

        value, grad = step(next(iter(data)))
        with tf.GradientTape() as tape:
            expected = tf.reduce_mean(loss.hungarian_huber_loss(target, pred))
        np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-5)
        np.testing.assert_allclose(grad.numpy(), tape.gradient(expected, pred).numpy(),
                                   atol=1e-6)
        print("OK", strategy.num_replicas_in_sync)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "OK 2" in result.stdout
