"""Every layer through the shared harness; position, encoder, decoder, Slot MLP invariants."""

import numpy as np
import pytest
import tensorflow as tf

from keras_slots.layers import (CNNEncoder, SlotAttention, SlotMLP, SoftPositionEmbed,
                                SpatialBroadcastDecoder, build_grid)
from tests.layer_harness import check_layer


def test_grid_corners_and_complements():
    grid = build_grid(5, 7)  # [1, 5, 7, 4]
    assert grid.shape == (1, 5, 7, 4)
    np.testing.assert_allclose(grid[0, 0, 0], [0, 0, 1, 1])
    np.testing.assert_allclose(grid[0, -1, -1], [1, 1, 0, 0])
    np.testing.assert_allclose(grid[0, 2, 3, :2], [0.5, 0.5])
    np.testing.assert_allclose(grid[..., :2] + grid[..., 2:], 1.0)


def test_soft_position_embed_adds_projection_of_grid():
    layer = SoftPositionEmbed()
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 5)).astype("float32")
    out = layer(x).numpy()
    expected = x + build_grid(6, 6) @ layer.dense.kernel.numpy() + layer.dense.bias.numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_encoder_shapes_strides_and_config():
    enc = CNNEncoder(channels=(8, 8, 8, 8), kernel_size=5, strides=(1, 2, 2, 1), mlp_size=16)
    out = enc(np.zeros((3, 32, 32, 3), "float32"))
    assert out.shape == (3, 8 * 8, 16)
    # 4 convs x 2, position dense x 2, LayerNorm x 2, MLP x 4.
    assert len(enc.trainable_weights) == 16
    assert all(conv.activation.__name__ == "relu" for conv in enc.convs)


def test_decoder_upsamples_and_is_per_slot():
    dec = SpatialBroadcastDecoder((4, 4), (8, 8), (2, 2), kernel_size=5)
    slots = np.random.default_rng(0).normal(size=(2, 3, 6)).astype("float32")
    out = dec(slots).numpy()
    assert out.shape == (2, 3, 16, 16, 4)
    # Each slot is decoded independently: changing slot 1 leaves slots 0 and 2 alone.
    changed = slots.copy()
    changed[:, 1] += 1.0
    out2 = dec(changed).numpy()
    np.testing.assert_allclose(out2[:, [0, 2]], out[:, [0, 2]], atol=1e-6)
    assert np.abs(out2[:, 1] - out[:, 1]).max() > 1e-4
    assert dec.output_resolution == (16, 16)


@pytest.mark.parametrize("grid, kernel_size, bands", [
    ((35, 35), 5, 0), ((7, 5), 3, 0), ((6, 9), 5, 0), ((9, 7), 5, 3)])
def test_decoder_first_layer_in_closed_form_equals_the_convolution(grid, kernel_size, bands):
    dec = SpatialBroadcastDecoder(grid, (8, 8), (1, 1), kernel_size=kernel_size,
                                  fourier_bands=bands)
    dec.build((None, None, 6))
    rng = np.random.default_rng(1)
    first = dec.deconvs[0]
    # Random (asymmetric) kernel, bias and position weights, so borders and flips matter.
    first.kernel.assign(rng.normal(size=first.kernel.shape).astype("float32"))
    first.bias.assign(rng.normal(size=first.bias.shape).astype("float32"))
    dec.position.dense.kernel.assign(rng.normal(size=(4 + 4 * bands, 6)).astype("float32"))
    flat = rng.normal(size=(5, 6)).astype("float32")  # [BK, D]
    convolved = first(dec.broadcast(flat)).numpy()  # the layer on the broadcast grid
    closed = dec.first_layer_in_closed_form(flat).numpy()
    assert convolved.shape == closed.shape == (5, *grid, 8)
    np.testing.assert_allclose(closed, convolved, atol=1e-4, rtol=1e-4)
    # Gradients agree too (the closed form is what training differentiates).
    slots = tf.constant(flat)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(slots)
        a = tf.reduce_sum(tf.sin(first(dec.broadcast(slots))))
        b = tf.reduce_sum(tf.sin(dec.first_layer_in_closed_form(slots)))
    for target in (slots, first.kernel, dec.position.dense.kernel):
        np.testing.assert_allclose(tape.gradient(b, target).numpy(),
                                   tape.gradient(a, target).numpy(), atol=1e-3, rtol=1e-3)


def test_position_scale_multiplies_the_grid_and_round_trips():
    layer = SoftPositionEmbed(scale=8.0)
    x = np.zeros((1, 5, 5, 3), "float32")
    out = layer(x).numpy()
    expected = 8.0 * build_grid(5, 5) @ layer.dense.kernel.numpy() + layer.dense.bias.numpy()
    np.testing.assert_allclose(out, expected, atol=1e-4)
    dec = SpatialBroadcastDecoder((5, 5), (4,), (1,), position_scale=8.0)
    dec.build((None, None, 3))
    assert dec.position.scale == 8.0


def test_fourier_bands_add_sines_and_cosines_of_the_grid():
    layer = SoftPositionEmbed(fourier_bands=2)
    layer.build((None, 3, 5, 4))
    assert layer.dense.kernel.shape == (12, 4)
    grid = layer.grid[0]  # [3, 5, 12]
    y, x = np.meshgrid(np.linspace(0, 1, 3), np.linspace(0, 1, 5), indexing="ij")
    np.testing.assert_allclose(grid[..., :4], build_grid(3, 5)[0])
    # Band k: sin(pi 2^k y), sin(pi 2^k x), cos(pi 2^k y), cos(pi 2^k x).
    for k in range(2):
        expected = [np.sin(np.pi * 2**k * y), np.sin(np.pi * 2**k * x),
                    np.cos(np.pi * 2**k * y), np.cos(np.pi * 2**k * x)]
        np.testing.assert_allclose(grid[..., 4 + 4 * k:8 + 4 * k],
                                   np.stack(expected, -1), atol=1e-6)
    assert SoftPositionEmbed.from_config(layer.get_config()).fourier_bands == 2


def test_slot_mlp_sees_positions_of_the_resized_flattened_feature_map():
    """The paper's baseline keeps position: moving features around changes the slots
    (a mean over the feature set would not), and its MLP reads grid h * w * C inputs."""
    layer = SlotMLP(3, 8, 16, feature_resolution=(6, 6), grid_size=(3, 3))
    features = np.random.default_rng(0).normal(size=(2, 36, 4)).astype("float32")
    slots = layer(features)
    shuffled = layer(features[:, ::-1])
    assert np.abs(slots.numpy() - shuffled.numpy()).max() > 1e-3
    assert layer.hidden[0].kernel.shape == (3 * 3 * 4, 16)
    assert [tuple(w.shape) for w in layer.trainable_weights] == [
        (36,), (36,), (36, 16), (16,), (16, 16), (16,), (16, 24), (24,)]


HARNESS_CASES = {
    "position": (SoftPositionEmbed, {"scale": 2.0}, (2, 6, 6, 5), (2, 6, 6, 5), 2),
    "position_fourier": (SoftPositionEmbed, {"fourier_bands": 3}, (2, 6, 6, 5), (2, 6, 6, 5), 2),
    "encoder": (CNNEncoder, {"channels": (8, 8), "kernel_size": 3, "strides": (1, 2),
                             "mlp_size": 16}, (2, 16, 16, 3), (2, 64, 16), 12),
    "decoder_upsampling": (SpatialBroadcastDecoder, {"initial_resolution": (4, 4),
                                                     "channels": (8, 8), "strides": (2, 1)},
                           (2, 3, 6), (2, 3, 8, 8, 4), 8),
    "decoder_closed_form": (SpatialBroadcastDecoder, {"initial_resolution": (5, 5),
                                                      "channels": (8,), "strides": (1,)},
                            (2, 3, 6), (2, 3, 5, 5, 4), 6),
    "slot_attention": (SlotAttention, {"num_slots": 3, "slot_size": 16, "mlp_hidden_size": 8,
                                       "implicit_grad": True, "seed": 1},
                       (2, 10, 8), (2, 3, 16), 18),
    "slot_attention_learned": (SlotAttention, {"num_slots": 3, "slot_size": 16,
                                               "slot_init": "learned"},
                               (2, 10, 8), (2, 3, 16), 17),
    "slot_mlp": (SlotMLP, {"num_slots": 4, "slot_size": 16, "mlp_hidden_size": 32,
                           "feature_resolution": (5, 2), "grid_size": (2, 2)},
                 (2, 10, 8), (2, 4, 16), 8),
}


@pytest.mark.parametrize("case", sorted(HARNESS_CASES))
def test_layer_harness(case, tmp_path):
    cls, kwargs, input_shape, output_shape, weights = HARNESS_CASES[case]
    call_kwargs = {"seed": tf.constant([3, 4])} if cls is SlotAttention else None
    check_layer(tmp_path, cls, kwargs, input_shape, output_shape, weights, call_kwargs)
