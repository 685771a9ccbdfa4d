"""The paper's released networks for tests: random weights, checkpoints, a numpy forward pass.

Written from the published model description (google-research slot_attention/model.py,
Keras 2), independently of keras_slots: the checkpoint layout comes from the attribute names
of the published classes (a functional model whose one weighted layer is the autoencoder or
the classifier, Sequential children `layer_with_weights-<i>`), built here from nested
tf.Modules; the forward pass is plain float64 numpy (Keras 2 LayerNormalization with
epsilon 1e-3, GRUCell with reset_after, "SAME" convolutions and transposed convolutions).
"""

import numpy as np
import tensorflow as tf

LAYER_NORM_EPSILON = 1e-3  # Keras 2's default.
ATTENTION_EPSILON = 1e-8


def random_weights(task, seed=0, width=64, slot_size=64, mlp_hidden=128, head_hidden=64):
    """Random, non-trivial weights of a released network, nested as its attributes.

    Args:
        task: "object_discovery" (SlotAttentionAutoEncoder) or "set_prediction"
            (SlotAttentionClassifier).
        seed: numpy seed.
        width: channels of every conv and of the feedforward MLP (paper: 64).
        slot_size, mlp_hidden, head_hidden: Slot Attention and head sizes (paper: 64, 128, 64).

    Returns:
        nested dict {attribute: dict or float32 array}: no zero biases, no unit gains.
    """
    rng = np.random.default_rng(seed)

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def dense(n_in, n_out, bias=True):
        layer = {"kernel": normal((n_in, n_out), (2.0 / n_in) ** 0.5)}
        if bias:
            layer["bias"] = normal((n_out,), 0.1)
        return layer

    def conv(k, n_in, n_out, transposed=False, gain=1.0):  # Transposed: [h, w, out, in].
        shape = (k, k, n_out, n_in) if transposed else (k, k, n_in, n_out)
        return {"kernel": normal(shape, gain * (2.0 / (k * k * n_in)) ** 0.5),
                "bias": normal((n_out,), 0.1)}

    def norm(size):
        return {"gamma": rng.uniform(0.5, 1.5, size).astype(np.float32),
                "beta": normal((size,), 0.2)}

    def sequential(*layers):
        return {f"layer_with_weights-{i}": layer for i, layer in enumerate(layers)}

    gates = 3 * slot_size
    net = {
        "encoder_cnn": sequential(conv(5, 3, width), *(conv(5, width, width) for _ in range(3))),
        "encoder_pos": {"dense": dense(4, width)},
        "layer_norm": norm(width),
        "mlp": sequential(dense(width, width), dense(width, width)),
        "slot_attention": {
            "norm_inputs": norm(width), "norm_slots": norm(slot_size),
            "norm_mlp": norm(slot_size),
            "slots_mu": normal((1, 1, slot_size), 0.5),
            "slots_log_sigma": rng.uniform(-0.5, 0.3, (1, 1, slot_size)).astype(np.float32),
            "project_q": dense(slot_size, slot_size, bias=False),
            "project_k": dense(width, slot_size, bias=False),
            "project_v": dense(width, slot_size, bias=False),
            "gru": {"kernel": normal((slot_size, gates), slot_size ** -0.5),
                    "recurrent_kernel": normal((slot_size, gates), slot_size ** -0.5),
                    "bias": normal((2, gates), 0.2)},
            "mlp": sequential(dense(slot_size, mlp_hidden), dense(mlp_hidden, slot_size)),
        },
    }
    if task == "object_discovery":
        net["decoder_pos"] = {"dense": dense(4, slot_size)}
        net["decoder_cnn"] = sequential(
            conv(5, slot_size, width, True), *(conv(5, width, width, True) for _ in range(4)),
            conv(3, width, 4, True, gain=4.0))  # Alpha logits that differ between slots.
    else:
        net["mlp_classifier"] = sequential(dense(slot_size, head_hidden), dense(head_hidden, 19))
    return net


def flatten(tree, prefix=""):
    """{"a/b/kernel": array} of a nested weights dict."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


class _Adam(tf.Module):
    """Keras 2 Adam as a checkpoint sees it: hyper-parameters, and "m" / "v" slots."""

    def __init__(self, moments, iterations):
        super().__init__()
        self.iter = tf.Variable(np.int64(iterations))
        self.beta_1 = tf.Variable(0.9)
        self.beta_2 = tf.Variable(0.999)
        self.decay = tf.Variable(0.0)
        self.learning_rate = tf.Variable(1.25e-5)
        self._lookup = moments.get  # Not tracked: the slots are saved as .OPTIMIZER_SLOT.

    def get_slot_names(self):
        return ["m", "v"]

    def get_slot(self, variable, name):
        return self._lookup(variable.ref(), {})[name]


def write_checkpoint(directory, weights, step=500_000, adam=True, number=500):
    """Writes `weights` as the released training scripts did (CheckpointManager.save).

    Args:
        directory: folder of the checkpoint ("checkpoint" state file + ckpt-<number>.*).
        weights: a `random_weights` tree.
        step: the global_step stored.
        adam: also store Adam's iteration count and m, v slots (random, v > 0).
        number: the checkpoint number (the released ones: 500, the 500th save).

    Returns:
        (prefix written, {flattened weight path: (m, v)} or None).
    """
    def to_module(tree):
        module = tf.Module()
        for key, value in tree.items():
            setattr(module, key, to_module(value) if isinstance(value, dict)
                    else tf.Variable(value, name=key))
        return module

    autoencoder = to_module(weights)
    network = tf.Module()  # The functional model: InputLayer, then the one weighted layer.
    setattr(network, "layer-0", tf.Module())
    setattr(network, "layer_with_weights-0", autoencoder)
    setattr(network, "layer-1", autoencoder)
    moments, by_path = {}, None
    if adam:
        rng = np.random.default_rng(1)
        variables = _variables_by_path(autoencoder)
        by_path = {path: (rng.standard_normal(v.shape).astype(np.float32) * 1e-3,
                          rng.uniform(1e-8, 1e-6, v.shape).astype(np.float32))
                   for path, v in variables.items()}
        moments = {variables[path].ref(): {"m": tf.Variable(m), "v": tf.Variable(v)}
                   for path, (m, v) in by_path.items()}
    kwargs = {"optimizer": _Adam(moments, step)} if adam else {}
    checkpoint = tf.train.Checkpoint(network=network, global_step=tf.Variable(np.int64(step)),
                                     **kwargs)
    manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=5)
    return manager.save(checkpoint_number=number), by_path


def _variables_by_path(module, prefix=""):
    out = {}
    for key, value in vars(module).items():
        if isinstance(value, tf.Module):
            out.update(_variables_by_path(value, f"{prefix}{key}/"))
        elif isinstance(value, tf.Variable):
            out[f"{prefix}{key}"] = value
    return out


# === The published computation, in float64 numpy ===

def _relu(x):
    return np.maximum(x, 0.0)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _dense(x, layer, activation=None):
    y = x @ layer["kernel"].astype(np.float64)
    if "bias" in layer:
        y = y + layer["bias"]
    return activation(y) if activation else y


def _layer_norm(x, layer):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPSILON) * layer["gamma"] + layer["beta"]


def _same_padding(size, stride, k):
    """(before, after) padding of a "SAME" convolution of `size` inputs."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def conv2d(x, layer, stride=1, activation=_relu):
    """"SAME" Conv2D: x [B, H, W, C], kernel [k, k, C, C'] -> [B, ceil(H/s), ceil(W/s), C']."""
    kernel = layer["kernel"].astype(np.float64)
    k = kernel.shape[0]
    (top, bottom), (left, right) = (_same_padding(x.shape[1], stride, k),
                                    _same_padding(x.shape[2], stride, k))
    padded = np.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)])
    out_h, out_w = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
    y = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]))
    for dy in range(k):
        for dx in range(k):
            window = padded[:, dy:dy + stride * (out_h - 1) + 1:stride,
                            dx:dx + stride * (out_w - 1) + 1:stride]  # [B, h, w, C]
            y += window @ kernel[dy, dx]
    y += layer["bias"]
    return activation(y) if activation else y


def conv2d_transpose(x, layer, stride=1, activation=_relu):
    """"SAME" Conv2DTranspose (the input gradient of a "SAME" Conv2D of stride s):
    x [B, H, W, C], kernel [k, k, C', C] -> [B, s*H, s*W, C']."""
    kernel = layer["kernel"].astype(np.float64)
    k = kernel.shape[0]
    batch, height, width, _ = x.shape
    out_h, out_w = stride * height, stride * width
    top, left = _same_padding(out_h, stride, k)[0], _same_padding(out_w, stride, k)[0]
    full = np.zeros((batch, stride * (height - 1) + k, stride * (width - 1) + k,
                     kernel.shape[2]))
    for dy in range(k):
        for dx in range(k):  # Input pixel i lands on output pixel i * s + tap - padding.
            full[:, dy:dy + stride * (height - 1) + 1:stride,
                 dx:dx + stride * (width - 1) + 1:stride] += x @ kernel[dy, dx].T
    y = full[:, top:top + out_h, left:left + out_w] + layer["bias"]
    return activation(y) if activation else y


def _position(x, layer):
    """SoftPositionEmbed: x [B, H, W, C] + Dense(grid of (y, x, 1 - y, 1 - x))."""
    ys, xs = np.meshgrid(np.linspace(0.0, 1.0, x.shape[1]), np.linspace(0.0, 1.0, x.shape[2]),
                         indexing="ij")
    grid = np.stack([ys, xs, 1.0 - ys, 1.0 - xs], axis=-1)[None]  # [1, H, W, 4]
    return x + _dense(grid, layer["dense"])


def _gru(inputs, state, layer):
    """Keras GRUCell, reset_after=True, gates (z, r, h): [N, D] x [N, D] -> [N, D]."""
    size = state.shape[-1]
    x = inputs @ layer["kernel"] + layer["bias"][0]  # [N, 3D]
    h = state @ layer["recurrent_kernel"] + layer["bias"][1]  # [N, 3D]
    z = _sigmoid(x[:, :size] + h[:, :size])
    r = _sigmoid(x[:, size:2 * size] + h[:, size:2 * size])
    candidate = np.tanh(x[:, 2 * size:] + r * h[:, 2 * size:])
    return z * state + (1.0 - z) * candidate


def slot_attention(features, layer, noise, num_iterations=3):
    """features [B, N, C], noise [B, K, D] -> slots [B, K, D]."""
    inputs = _layer_norm(features, layer["norm_inputs"])
    k = _dense(inputs, layer["project_k"])  # [B, N, D]
    v = _dense(inputs, layer["project_v"])  # [B, N, D]
    slots = layer["slots_mu"] + np.exp(layer["slots_log_sigma"].astype(np.float64)) * noise
    size = slots.shape[-1]
    for _ in range(num_iterations):
        previous = slots
        q = _dense(_layer_norm(slots, layer["norm_slots"]), layer["project_q"]) * size ** -0.5
        attn = _softmax(np.einsum("bnd,bkd->bnk", k, q), axis=-1) + ATTENTION_EPSILON
        attn = attn / attn.sum(axis=1, keepdims=True)  # [B, N, K], weighted mean over N
        updates = np.einsum("bnk,bnd->bkd", attn, v)  # [B, K, D]
        batch, num_slots = slots.shape[:2]
        slots = _gru(updates.reshape(-1, size), previous.reshape(-1, size),
                     layer["gru"]).reshape(batch, num_slots, size)
        hidden = _dense(_layer_norm(slots, layer["norm_mlp"]),
                        layer["mlp"]["layer_with_weights-0"], _relu)
        slots = slots + _dense(hidden, layer["mlp"]["layer_with_weights-1"])
    return slots


def _encode(weights, images, strides):
    x = images.astype(np.float64)
    for i, stride in enumerate(strides):
        x = conv2d(x, weights["encoder_cnn"][f"layer_with_weights-{i}"], stride)
    x = _position(x, weights["encoder_pos"]).reshape(x.shape[0], -1, x.shape[-1])
    x = _layer_norm(x, weights["layer_norm"])
    hidden = _dense(x, weights["mlp"]["layer_with_weights-0"], _relu)
    return _dense(hidden, weights["mlp"]["layer_with_weights-1"])  # [B, N, C]


def autoencoder(weights, images, noise, num_iterations=3, initial=(8, 8)):
    """The object-discovery network: images [B, H, W, 3], noise [B, K, D] -> dict of recon
    [B, H, W, 3], recons [B, K, H, W, 3], masks [B, K, H, W, 1], slots [B, K, D]."""
    slots = slot_attention(_encode(weights, images, (1, 1, 1, 1)), weights["slot_attention"],
                           noise, num_iterations)
    batch, num_slots, size = slots.shape
    x = np.broadcast_to(slots.reshape(-1, 1, 1, size), (batch * num_slots, *initial, size))
    x = _position(x, weights["decoder_pos"])
    layers = weights["decoder_cnn"]
    for i, stride in enumerate((2, 2, 2, 2, 1, 1)):
        x = conv2d_transpose(x, layers[f"layer_with_weights-{i}"], stride,
                             _relu if i < 5 else None)
    x = x.reshape(batch, num_slots, *x.shape[1:])
    recons, alpha = x[..., :3], x[..., 3:]
    masks = _softmax(alpha, axis=1)
    return {"recon": (recons * masks).sum(axis=1), "recons": recons, "masks": masks,
            "slots": slots}


def classifier(weights, images, noise, num_iterations=3):
    """The set-prediction network: images [B, 128, 128, 3], noise [B, K, D] -> [B, K, 19]."""
    slots = slot_attention(_encode(weights, images, (1, 2, 2, 1)), weights["slot_attention"],
                           noise, num_iterations)
    head = weights["mlp_classifier"]
    hidden = _dense(slots, head["layer_with_weights-0"], _relu)
    return _dense(hidden, head["layer_with_weights-1"], _sigmoid)
