"""Object discovery autoencoder: CNN encoder -> Slot Attention -> spatial broadcast decoder."""

import dataclasses

import keras
import tensorflow as tf

from keras_slots.config import ModelConfig
from keras_slots.layers import CNNEncoder, SlotAttention, SpatialBroadcastDecoder


@keras.saving.register_keras_serializable(package="keras_slots")
class SlotAttentionAutoEncoder(keras.Model):
    """The paper's object discovery model; its constructor arguments are `ModelConfig`'s fields.

    Each slot is decoded to RGB + an alpha logit; masks = softmax(alpha) over slots and the
    reconstruction is the mask-weighted sum of the per-slot RGB images.

    Args:
        resolution: (H, W) of the input images.
        num_slots, slot_size, num_iterations, mlp_hidden_size, slot_init, implicit_grad:
            Slot Attention settings (see layers.SlotAttention).
        encoder_channels, encoder_kernel_size, encoder_mlp_size: CNN encoder settings.
        decoder_initial_resolution, decoder_channels, decoder_strides, decoder_kernel_size,
            decoder_position_scale: spatial broadcast decoder settings; they must decode to
            `resolution`.
        slot_encoder: "slot_attention" (the paper's model) or "slot_mlp" (the paper's Slot MLP
            baseline: the encoder's feature map resized to 8x8, flattened -> MLP -> K
            ordered slots; see models.SlotMLP).
        seed: seed of the slot noise when calls pass no explicit seed.

    Call arguments:
        images: [B, H, W, 3] float images in [-1, 1].
        num_slots: optional int, slots to use (default: trained value).
        num_iterations: optional int, Slot Attention iterations (default: trained value).
        seed: optional int32 [2] tensor making the slot noise repeatable.
        slot_noise: optional [B, K, D] standard normal noise of the initial slots (overrides
            seed).

    Returns:
        dict with recon [B, H, W, 3], recons [B, K, H, W, 3], masks [B, K, H, W, 1],
        slots [B, K, D], attn [B, K, N] (last iteration), attn_iterations [B, T, K, N];
        all float32.

    Example:
        >>> model = SlotAttentionAutoEncoder.from_model_config(get_preset("tetrominoes").model)
        >>> model(np.zeros((2, 35, 35, 3), "float32"))["masks"].shape
        TensorShape([2, 4, 35, 35, 1])
    """

    def __init__(
        self,
        resolution=(35, 35),
        num_slots=4,
        slot_size=64,
        num_iterations=3,
        mlp_hidden_size=128,
        encoder_channels=(32, 32, 32, 32),
        encoder_kernel_size=5,
        encoder_mlp_size=64,
        decoder_initial_resolution=(35, 35),
        decoder_channels=(32, 32, 32),
        decoder_strides=(1, 1, 1),
        decoder_kernel_size=5,
        decoder_position_scale=1.0,
        slot_init="gaussian",
        implicit_grad=False,
        slot_encoder="slot_attention",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Config ===
        self.resolution = tuple(resolution)
        self.num_slots = num_slots
        self.slot_size = slot_size
        self.num_iterations = num_iterations
        self.mlp_hidden_size = mlp_hidden_size
        self.encoder_channels = tuple(encoder_channels)
        self.encoder_kernel_size = encoder_kernel_size
        self.encoder_mlp_size = encoder_mlp_size
        self.decoder_initial_resolution = tuple(decoder_initial_resolution)
        self.decoder_channels = tuple(decoder_channels)
        self.decoder_strides = tuple(decoder_strides)
        self.decoder_kernel_size = decoder_kernel_size
        self.decoder_position_scale = decoder_position_scale
        self.slot_init = slot_init
        self.implicit_grad = implicit_grad
        self.slot_encoder = slot_encoder
        self.seed = seed
        if num_slots < 1 or num_iterations < 1:
            raise ValueError(f"num_slots and num_iterations must be >= 1, got {num_slots}, "
                             f"{num_iterations}")
        # === Layers ===
        policy = self.dtype_policy
        self.encoder = CNNEncoder(
            encoder_channels, encoder_kernel_size, mlp_size=encoder_mlp_size,
            name="encoder", dtype=policy,
        )
        if slot_encoder == "slot_attention":
            self.slot_attention = SlotAttention(
                num_slots, slot_size, num_iterations, mlp_hidden_size, slot_init=slot_init,
                implicit_grad=implicit_grad, seed=seed, name="slot_attention", dtype=policy,
            )
        elif slot_encoder == "slot_mlp":
            from keras_slots.models.slot_mlp import SlotMLP

            self.slot_attention = SlotMLP(
                num_slots, slot_size, mlp_hidden_size, feature_resolution=self.resolution,
                name="slot_mlp", dtype=policy,
            )
        else:
            raise ValueError(f"slot_encoder must be 'slot_attention' or 'slot_mlp', "
                             f"got {slot_encoder!r}")
        self.decoder = SpatialBroadcastDecoder(
            decoder_initial_resolution, decoder_channels, decoder_strides,
            kernel_size=decoder_kernel_size, position_scale=decoder_position_scale,
            name="decoder", dtype=policy,
        )
        if self.decoder.output_resolution != self.resolution:
            raise ValueError(
                f"the decoder produces {self.decoder.output_resolution} images "
                f"(initial resolution {self.decoder_initial_resolution} x strides "
                f"{self.decoder_strides}), but resolution is {self.resolution}"
            )

    @classmethod
    def from_model_config(cls, model_config, **kwargs):
        """Builds the model from a `ModelConfig` (extra kwargs go to the constructor)."""
        return cls(**dataclasses.asdict(model_config), **kwargs)

    def build(self, images_shape):
        self.encoder.build(images_shape)
        n = None
        self.slot_attention.build((None, n, self.encoder_mlp_size))
        self.decoder.build((None, None, self.slot_size))
        self.built = True

    def call(self, images, num_slots=None, num_iterations=None, seed=None, slot_noise=None,
             training=None):
        images = tf.convert_to_tensor(images)
        if images.shape.rank != 4 or tuple(images.shape[1:]) != (*self.resolution, 3):
            raise ValueError(
                f"expected images of shape [B, {self.resolution[0]}, {self.resolution[1]}, 3], "
                f"got {images.shape}"
            )
        features = self.encoder(tf.cast(images, self.compute_dtype))  # [B, N, C]
        slots, attn = self.slot_attention(
            features, num_slots=num_slots, num_iterations=num_iterations, seed=seed,
            noise=slot_noise,
        )  # [B, K, D], [B, T, K, N]
        decoded = tf.cast(self.decoder(slots), tf.float32)  # [B, K, H, W, 4]
        recons, alpha = decoded[..., :3], decoded[..., 3:]  # [B, K, H, W, 3], [B, K, H, W, 1]
        masks = tf.nn.softmax(alpha, axis=1)  # [B, K, H, W, 1]
        recon = tf.reduce_sum(recons * masks, axis=1)  # [B, H, W, 3]
        attn = tf.cast(attn, tf.float32)
        return {
            "recon": recon,
            "recons": recons,
            "masks": masks,
            "slots": tf.cast(slots, tf.float32),
            "attn": attn[:, -1],
            "attn_iterations": attn,
        }

    def get_config(self):
        config = super().get_config()
        config.update({f.name: getattr(self, f.name) for f in dataclasses.fields(ModelConfig)})
        config["seed"] = self.seed
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
