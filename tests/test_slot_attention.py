"""SlotAttention: faithfulness to the paper's algorithm, symmetries, config, seeds."""

import numpy as np
import pytest
import tensorflow as tf

from keras_slots.layers import SlotAttention

B, N, D_IN, K, D = 3, 20, 8, 4, 16


def _layer(**kwargs):
    layer = SlotAttention(num_slots=K, slot_size=D, mlp_hidden_size=32, **kwargs)
    layer.build((None, N, D_IN))
    return layer


def _inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(B, N, D_IN)).astype("float32")


def _numpy_reference(layer, inputs, init, iterations):
    """Algorithm 1 of the paper written out in numpy with the layer's weights."""

    def norm(x, ln):
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + ln.epsilon) * ln.gamma.numpy() + ln.beta.numpy()

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    x = norm(inputs, layer.norm_inputs)
    k, v = x @ layer.to_k.kernel.numpy(), x @ layer.to_v.kernel.numpy()
    slots = init
    w, u, bias = (layer.gru.kernel.numpy(), layer.gru.recurrent_kernel.numpy(),
                  layer.gru.bias.numpy())
    for _ in range(iterations):
        prev = slots
        q = norm(slots, layer.norm_slots) @ layer.to_q.kernel.numpy()  # [B, K, D]
        logits = np.einsum("bnd,bkd->bkn", k, q) / np.sqrt(D)
        attn = np.exp(logits - logits.max(1, keepdims=True))
        attn = attn / attn.sum(1, keepdims=True) + 1e-8  # softmax over slots
        attn = attn / attn.sum(2, keepdims=True)  # weighted mean over inputs
        updates = np.einsum("bkn,bnd->bkd", attn, v)
        xs, hs = updates @ w + bias[0], prev @ u + bias[1]  # gates z, r, h
        z = sigmoid(xs[..., :D] + hs[..., :D])
        r = sigmoid(xs[..., D:2 * D] + hs[..., D:2 * D])
        h = np.tanh(xs[..., 2 * D:] + r * hs[..., 2 * D:])
        slots = z * prev + (1 - z) * h
        hidden = np.maximum(norm(slots, layer.norm_mlp) @ layer.mlp_hidden.kernel.numpy()
                            + layer.mlp_hidden.bias.numpy(), 0)
        slots = slots + hidden @ layer.mlp_out.kernel.numpy() + layer.mlp_out.bias.numpy()
    return slots


def test_matches_numpy_reference_algorithm():
    layer = _layer()
    init = np.random.default_rng(1).normal(size=(B, K, D)).astype("float32")
    slots, attn = layer(_inputs(), initial_slots=init)
    expected = _numpy_reference(layer, _inputs().astype("float64"), init.astype("float64"), 3)
    np.testing.assert_allclose(slots.numpy(), expected, atol=2e-4)
    np.testing.assert_allclose(attn.numpy()[:, -1].sum(1), 1.0, atol=1e-5)  # over slots


def test_projections_have_no_bias_and_weight_count_is_pinned():
    layer = _layer()
    for dense in (layer.to_q, layer.to_k, layer.to_v):
        assert not dense.use_bias and dense.activation.__name__ == "linear"
    # 3 LayerNorms x 2, q/k/v kernels, GRU (kernel, recurrent, bias), MLP 2 x 2, mu, sigma.
    assert len(layer.trainable_weights) == 6 + 3 + 3 + 4 + 2
    assert layer.slots_mu.shape == (1, 1, D) and layer.slots_log_sigma.shape == (1, 1, D)


def test_shapes_and_call_time_slots_and_iterations():
    layer = _layer()
    slots, attn = layer(_inputs(), num_slots=7, num_iterations=5, seed=tf.constant([1, 2]))
    assert slots.shape == (B, 7, D) and attn.shape == (B, 5, 7, N)


def test_permuting_initial_slots_permutes_output():
    layer = _layer()
    init = np.random.default_rng(2).normal(size=(B, K, D)).astype("float32")
    perm = np.array([2, 0, 3, 1])
    slots, attn = layer(_inputs(), initial_slots=init)
    slots_p, attn_p = layer(_inputs(), initial_slots=init[:, perm])
    np.testing.assert_allclose(slots_p.numpy(), slots.numpy()[:, perm], atol=1e-5)
    np.testing.assert_allclose(attn_p.numpy(), attn.numpy()[:, :, perm], atol=1e-6)


def test_permuting_inputs_leaves_slots_unchanged():
    layer = _layer()
    seed = tf.constant([5, 6])
    perm = np.random.default_rng(3).permutation(N)
    slots, attn = layer(_inputs(), seed=seed)
    slots_p, attn_p = layer(_inputs()[:, perm], seed=seed)
    np.testing.assert_allclose(slots_p.numpy(), slots.numpy(), atol=1e-5)
    np.testing.assert_allclose(attn_p.numpy(), attn.numpy()[..., perm], atol=1e-6)


def test_seeds_make_noise_repeatable():
    layer = _layer()
    a, _ = layer(_inputs(), seed=tf.constant([1, 1]))
    b, _ = layer(_inputs(), seed=tf.constant([1, 1]))
    c, _ = layer(_inputs(), seed=tf.constant([1, 2]))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.abs(a.numpy() - c.numpy()).max() > 1e-3
    seeded = [_layer(seed=9) for _ in range(2)]
    for other in seeded[1:]:
        other.set_weights(seeded[0].get_weights())
    np.testing.assert_array_equal(seeded[0](_inputs())[0].numpy(),
                                  seeded[1](_inputs())[0].numpy())


@pytest.mark.parametrize("implicit_grad", [False, True])
def test_every_weight_gets_a_gradient(implicit_grad):
    layer = _layer(implicit_grad=implicit_grad)
    with tf.GradientTape() as tape:
        slots, _ = layer(_inputs(), seed=tf.constant([0, 0]))
        loss = tf.reduce_sum(tf.square(slots - 0.3))
    grads = tape.gradient(loss, layer.trainable_weights)
    for var, grad in zip(layer.trainable_weights, grads):
        assert grad is not None and np.abs(grad.numpy()).max() > 0, var.path


def test_implicit_grad_backpropagates_through_the_last_iteration_only():
    """With implicit_grad the gradient is that of one step from the (constant) refined slots,
    with the straight-through path to the initial slots; a no-op flag would give the full
    back-propagation's gradient instead."""
    plain, implicit = _layer(), _layer(implicit_grad=True)
    implicit.set_weights(plain.get_weights())
    seed = tf.constant([5, 5])

    def gradients(layer):
        with tf.GradientTape() as tape:
            slots, _ = layer(_inputs(), seed=seed)
            loss = tf.reduce_sum(tf.square(slots - 0.3))
        return tape.gradient(loss, [layer.to_k.kernel, layer.slots_mu])

    full_k, full_mu = gradients(plain)
    implicit_k, implicit_mu = gradients(implicit)
    assert np.abs(implicit_k.numpy() - full_k.numpy()).max() > 1e-4
    # Independent recomputation: T - 1 steps without gradient, then one step whose input
    # carries the initial slots' gradient (straight through).
    with tf.GradientTape() as tape:
        inputs = plain.norm_inputs(_inputs())
        keys, values = plain.to_k(inputs), plain.to_v(inputs)
        init = plain.sample_slots(B, K, seed)
        slots = init
        for _ in range(plain.num_iterations - 1):
            slots, _ = plain.step(tf.stop_gradient(slots), tf.stop_gradient(keys),
                                  tf.stop_gradient(values))
        slots = tf.stop_gradient(slots) + init - tf.stop_gradient(init)
        slots, _ = plain.step(slots, keys, values)
        loss = tf.reduce_sum(tf.square(slots - 0.3))
    expected_k, expected_mu = tape.gradient(loss, [plain.to_k.kernel, plain.slots_mu])
    np.testing.assert_allclose(implicit_k.numpy(), expected_k.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(implicit_mu.numpy(), expected_mu.numpy(), rtol=1e-4, atol=1e-6)


def test_implicit_grad_keeps_forward_values():
    plain, implicit = _layer(), _layer(implicit_grad=True)
    implicit.set_weights(plain.get_weights())
    seed = tf.constant([4, 4])
    np.testing.assert_allclose(implicit(_inputs(), seed=seed)[0].numpy(),
                               plain(_inputs(), seed=seed)[0].numpy(), atol=1e-6)


def test_learned_init_fixes_slot_count():
    layer = _layer(slot_init="learned")
    slots, _ = layer(_inputs())
    assert slots.shape == (B, K, D)
    with pytest.raises(ValueError, match="learned slot initialisation"):
        layer(_inputs(), num_slots=K + 1)
    with pytest.raises(ValueError, match="slot_init"):
        SlotAttention(4, slot_init="uniform")
