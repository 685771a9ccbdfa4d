"""The Slot Attention module (Locatello et al. 2020, Algorithm 1)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_slots")
class SlotAttention(keras.layers.Layer):
    """Iterative attention that binds a set of N input features to K slots.

    Each iteration: q = W_q LN(slots); logits = k q^T / sqrt(D); softmax over the *slot* axis;
    attn += epsilon; renormalise over the *input* axis (weighted mean); updates = attn^T v;
    slots = GRU(updates, slots); slots += MLP(LN(slots)). q, k, v are bias-free linear maps.

    Args:
        num_slots: default number of slots K (a call argument can override it).
        slot_size: slot dimension D.
        num_iterations: default number of iterations T (a call argument can override it).
        mlp_hidden_size: hidden units of the residual MLP.
        epsilon: added to the attention before the weighted mean.
        slot_init: "gaussian" (paper: mu + exp(log_sigma) * N(0, I), shared by all slots) or
            "learned" (one learned query per slot, no noise; K is then fixed to num_slots).
        implicit_grad: if True, back-propagate through the last iteration only (the earlier
            iterations run under stop_gradient), which trains faster and more stably.
        seed: int seed of the slot noise used when `call` gets no explicit seed.

    Call arguments:
        inputs: [B, N, D_in] set of features.
        num_slots: optional int K overriding the default.
        num_iterations: optional int T overriding the default.
        seed: optional int32 [2] tensor; the slot noise is then tf.random.stateless_normal
            with this seed, so results are repeatable.
        initial_slots: optional [B, K, D] tensor used instead of sampling the initial slots.
        noise: optional [B, K, D] standard normal noise for the Gaussian initialisation
            (initial slots = mu + sigma * noise), e.g. one slice of a global batch's noise so
            that results do not depend on how a batch is split across replicas.

    Returns:
        (slots [B, K, D], attn [B, T, K, N]): the slots and the attention of every iteration
        (softmax over slots, before the renormalisation), last iteration last.

    Example:
        >>> layer = SlotAttention(num_slots=4, slot_size=16)
        >>> slots, attn = layer(np.zeros((2, 10, 8), "float32"))
        >>> slots.shape, attn.shape
        (TensorShape([2, 4, 16]), TensorShape([2, 3, 4, 10]))
    """

    def __init__(
        self,
        num_slots,
        slot_size=64,
        num_iterations=3,
        mlp_hidden_size=128,
        epsilon=1e-8,
        slot_init="gaussian",
        implicit_grad=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if slot_init not in ("gaussian", "learned"):
            raise ValueError(f"slot_init must be 'gaussian' or 'learned', got {slot_init!r}")
        # === Config ===
        self.num_slots = num_slots
        self.slot_size = slot_size
        self.num_iterations = num_iterations
        self.mlp_hidden_size = mlp_hidden_size
        self.epsilon = epsilon
        self.slot_init = slot_init
        self.implicit_grad = implicit_grad
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, inputs_shape):
        dim = self.slot_size
        policy = self.dtype_policy
        # === Layers ===
        self.norm_inputs = keras.layers.LayerNormalization(name="norm_inputs", dtype=policy)
        self.norm_slots = keras.layers.LayerNormalization(name="norm_slots", dtype=policy)
        self.norm_mlp = keras.layers.LayerNormalization(name="norm_mlp", dtype=policy)
        self.to_q = keras.layers.Dense(dim, use_bias=False, name="q", dtype=policy)
        self.to_k = keras.layers.Dense(dim, use_bias=False, name="k", dtype=policy)
        self.to_v = keras.layers.Dense(dim, use_bias=False, name="v", dtype=policy)
        self.gru = keras.layers.GRUCell(dim, name="gru", dtype=policy)
        self.mlp_hidden = keras.layers.Dense(
            self.mlp_hidden_size, activation="relu", name="mlp_hidden", dtype=policy
        )
        self.mlp_out = keras.layers.Dense(dim, name="mlp_out", dtype=policy)

        self.norm_inputs.build(inputs_shape)
        for layer in (self.to_k, self.to_v):
            layer.build(inputs_shape)
        slot_shape = (None, dim)
        self.norm_slots.build(slot_shape)
        self.norm_mlp.build(slot_shape)
        self.to_q.build(slot_shape)
        self.gru.build(slot_shape)
        self.mlp_hidden.build(slot_shape)
        self.mlp_out.build((None, self.mlp_hidden_size))
        if self.slot_init == "gaussian":
            self.slots_mu = self.add_weight(
                shape=(1, 1, dim), initializer="glorot_uniform", name="slots_mu"
            )
            self.slots_log_sigma = self.add_weight(
                shape=(1, 1, dim), initializer="glorot_uniform", name="slots_log_sigma"
            )
        else:
            self.slots_init = self.add_weight(
                shape=(1, self.num_slots, dim), initializer="glorot_uniform", name="slots_init"
            )
        self.built = True

    def sample_slots(self, batch_size, num_slots, seed=None, noise=None):
        """Samples the initial slots.

        Args:
            batch_size: scalar B.
            num_slots: int K.
            seed: optional int32 [2] seed for stateless sampling.
            noise: optional [B, K, D] standard normal noise to use instead of sampling.

        Returns:
            [B, K, D] initial slots in the compute dtype.
        """
        if self.slot_init == "learned":
            if num_slots != self.num_slots:
                raise ValueError(
                    f"learned slot initialisation has {self.num_slots} slots; "
                    f"cannot run with num_slots={num_slots}"
                )
            slots = tf.cast(self.slots_init, self.compute_dtype)  # [1, K, D]
            return tf.tile(slots, [batch_size, 1, 1])  # [B, K, D]
        if noise is None:
            if seed is None:
                seed = self.seed_generator.next()
            shape = tf.stack([batch_size, num_slots, self.slot_size])
            noise = tf.random.stateless_normal(shape, seed=tf.cast(seed, tf.int32))  # [B, K, D]
        noise = tf.cast(noise, tf.float32)
        mu = tf.cast(self.slots_mu, tf.float32)  # [1, 1, D]
        sigma = tf.exp(tf.cast(self.slots_log_sigma, tf.float32))  # [1, 1, D]
        return tf.cast(mu + sigma * noise, self.compute_dtype)  # [B, K, D]

    def step(self, slots, keys, values):
        """One refinement iteration.

        Args:
            slots: [B, K, D] current slots.
            keys: [B, N, D] projected keys.
            values: [B, N, D] projected values.

        Returns:
            (new slots [B, K, D], attention [B, K, N] softmaxed over slots).
        """
        batch, num_slots = tf.shape(slots)[0], tf.shape(slots)[1]
        queries = self.to_q(self.norm_slots(slots))  # [B, K, D]
        scale = float(self.slot_size) ** -0.5
        logits = tf.einsum("bnd,bkd->bkn", keys, queries) * scale  # [B, K, N]
        attn = tf.nn.softmax(tf.cast(logits, tf.float32), axis=1)  # [B, K, N] over slots
        weights = attn + self.epsilon
        weights = weights / tf.reduce_sum(weights, axis=-1, keepdims=True)  # mean over inputs
        updates = tf.einsum("bkn,bnd->bkd", tf.cast(weights, values.dtype), values)  # [B, K, D]
        flat_updates = tf.reshape(updates, [batch * num_slots, self.slot_size])  # [BK, D]
        flat_prev = tf.reshape(slots, [batch * num_slots, self.slot_size])  # [BK, D]
        flat_slots, _ = self.gru(flat_updates, [flat_prev])  # [BK, D]
        flat_slots = flat_slots + self.mlp_out(self.mlp_hidden(self.norm_mlp(flat_slots)))
        return tf.reshape(flat_slots, [batch, num_slots, self.slot_size]), attn

    def call(self, inputs, num_slots=None, num_iterations=None, seed=None, initial_slots=None,
             noise=None, training=None):
        num_slots = self.num_slots if num_slots is None else num_slots
        num_iterations = self.num_iterations if num_iterations is None else num_iterations
        if num_slots < 1 or num_iterations < 1:
            raise ValueError(
                f"num_slots and num_iterations must be >= 1, got {num_slots}, {num_iterations}"
            )
        inputs = self.norm_inputs(inputs)  # [B, N, D_in]
        keys, values = self.to_k(inputs), self.to_v(inputs)  # [B, N, D] each
        if initial_slots is None:
            init = self.sample_slots(tf.shape(inputs)[0], num_slots, seed, noise)  # [B, K, D]
        else:
            init = tf.cast(initial_slots, self.compute_dtype)  # [B, K, D]
        slots, attns = init, []
        for i in range(num_iterations):
            if self.implicit_grad and i == num_iterations - 1:
                # Straight-through: values of the refined slots, gradient of the initial ones.
                slots = tf.stop_gradient(slots) + init - tf.stop_gradient(init)
            elif self.implicit_grad:
                slots = tf.stop_gradient(slots)
            slots, attn = self.step(slots, keys, values)  # [B, K, D], [B, K, N]
            attns.append(attn)
        return slots, tf.stack(attns, axis=1)  # [B, K, D], [B, T, K, N]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_slots": self.num_slots,
                "slot_size": self.slot_size,
                "num_iterations": self.num_iterations,
                "mlp_hidden_size": self.mlp_hidden_size,
                "epsilon": self.epsilon,
                "slot_init": self.slot_init,
                "implicit_grad": self.implicit_grad,
                "seed": self.seed,
            }
        )
        return config
