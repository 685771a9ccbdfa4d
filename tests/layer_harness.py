"""One test every keras_slots layer goes through (used by tests/test_layers.py).

`check_layer` runs: config round trip, eager call, symbolic (functional) call, pinned
trainable-weight count, a gradient step that reaches every weight and changes the output,
and a .keras save / load that reproduces the output.
"""

import os

import keras
import numpy as np
import tensorflow as tf


def _first(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def check_layer(tmp_path, cls, init_kwargs, input_shape, output_shape, trainable_weights,
                call_kwargs=None):
    """Runs the shared layer checks.

    Args:
        tmp_path: a folder for the .keras file.
        cls: the layer class.
        init_kwargs: constructor arguments.
        input_shape: shape of the (single) input, batch included.
        output_shape: expected shape of the (first) output for that input.
        trainable_weights: the pinned number of trainable weights.
        call_kwargs: extra call arguments of the eager calls (e.g. a noise seed), so that
            outputs can be compared.

    Returns:
        The built layer.
    """
    call_kwargs = call_kwargs or {}
    inputs = np.random.default_rng(0).normal(size=input_shape).astype("float32")

    layer = cls(**init_kwargs)
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config
    assert set(init_kwargs) <= set(config), "get_config must hold the constructor arguments"

    eager = _first(layer(inputs, **call_kwargs))
    assert tuple(eager.shape) == tuple(output_shape)
    assert len(layer.trainable_weights) == trainable_weights, [
        w.path for w in layer.trainable_weights]

    symbolic_in = keras.Input(shape=input_shape[1:], batch_size=None)
    symbolic = _first(layer(symbolic_in))
    assert tuple(symbolic.shape[1:]) == tuple(output_shape[1:])

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(tf.cast(_first(layer(inputs, **call_kwargs)),
                                               tf.float32) - 0.1))
    grads = tape.gradient(loss, layer.trainable_weights)
    missing = [w.path for w, g in zip(layer.trainable_weights, grads) if g is None]
    assert not missing, missing
    keras.optimizers.SGD(0.01).apply_gradients(zip(grads, layer.trainable_weights))
    stepped = _first(layer(inputs, **call_kwargs)).numpy()
    assert np.abs(stepped - eager.numpy()).max() > 0, "a gradient step changed nothing"

    model = keras.Model(symbolic_in, layer(symbolic_in))
    path = os.path.join(str(tmp_path), f"{cls.__name__}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    restored = [la for la in loaded.layers if isinstance(la, cls)][0]
    np.testing.assert_array_equal(_first(restored(inputs, **call_kwargs)).numpy(), stepped)
    return layer
