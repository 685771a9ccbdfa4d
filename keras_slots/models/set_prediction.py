"""Set-prediction model: strided CNN encoder -> Slot Attention -> per-slot property head."""

import keras
import tensorflow as tf

from keras_slots.layers.encoders import CNNEncoder
from keras_slots.layers.set_prediction_head import SetPredictionHead
from keras_slots.layers.slot_attention import SlotAttention
from keras_slots.models.inputs import checked_images


@keras.saving.register_keras_serializable(package="keras_slots")
class SlotAttentionSetPredictor(keras.Model):
    """The paper's CLEVR property-prediction model.

    The encoder (4 x Conv 5x5, 64 channels, strides 1, 2, 2, 1: 128x128 -> 32x32 features,
    soft position embedding, flatten, LayerNorm, MLP 64 -> 64) feeds Slot Attention
    (10 slots of size 64, 3 iterations); a shared MLP (64, relu -> 19, sigmoid) turns each
    slot into one predicted object. Slots are unordered: train with
    `set_prediction.loss.hungarian_huber_loss`.

    Args:
        resolution: (H, W) of the input images (paper: 128x128).
        num_slots, slot_size, num_iterations, mlp_hidden_size, slot_init, implicit_grad:
            Slot Attention settings (see layers.SlotAttention).
        encoder_channels, encoder_kernel_size, encoder_strides, encoder_mlp_size: CNN
            encoder settings (see layers.CNNEncoder).
        head_hidden_size: hidden units of the per-slot head.
        output_size: numbers predicted per slot (19 in the CLEVR target layout).
        seed: seed of the slot noise when calls pass no explicit seed.

    Call arguments:
        images: [B, H, W, 3] float images in [-1, 1].
        num_slots: optional int, slots to use (default: num_slots).
        num_iterations: optional int, Slot Attention iterations (default: num_iterations).
        seed: optional int32 [2] tensor making the slot noise repeatable.
        slot_noise: optional [B, K, D] standard normal noise of the initial slots.

    Returns:
        dict of float32 tensors: "pred" [B, K, output_size] sigmoid outputs (index 18:
        real-object score), "slots" [B, K, D], "attn" [B, K, N] attention of the last
        iteration over the N = H' * W' encoder features.

    Example:
        >>> model = SlotAttentionSetPredictor()
        >>> model(np.zeros((2, 128, 128, 3), "float32"))["pred"].shape
        TensorShape([2, 10, 19])
    """

    def __init__(
        self,
        resolution=(128, 128),
        num_slots=10,
        slot_size=64,
        num_iterations=3,
        mlp_hidden_size=128,
        encoder_channels=(64, 64, 64, 64),
        encoder_kernel_size=5,
        encoder_strides=(1, 2, 2, 1),
        encoder_mlp_size=64,
        head_hidden_size=64,
        output_size=19,
        slot_init="gaussian",
        implicit_grad=False,
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
        self.encoder_strides = tuple(encoder_strides)
        self.encoder_mlp_size = encoder_mlp_size
        self.head_hidden_size = head_hidden_size
        self.output_size = output_size
        self.slot_init = slot_init
        self.implicit_grad = implicit_grad
        self.seed = seed
        # === Layers ===
        policy = self.dtype_policy
        self.encoder = CNNEncoder(
            encoder_channels, encoder_kernel_size, strides=encoder_strides,
            mlp_size=encoder_mlp_size, name="encoder", dtype=policy,
        )
        self.slot_attention = SlotAttention(
            num_slots, slot_size, num_iterations, mlp_hidden_size, slot_init=slot_init,
            implicit_grad=implicit_grad, seed=seed, name="slot_attention", dtype=policy,
        )
        self.head = SetPredictionHead(head_hidden_size, output_size, name="head", dtype=policy)

    def build(self, images_shape):
        self.encoder.build((None, *self.resolution, 3))
        self.slot_attention.build((None, None, self.encoder_mlp_size))
        self.head.build((None, None, self.slot_size))
        self.built = True

    def call(self, images, num_slots=None, num_iterations=None, seed=None, slot_noise=None,
             training=None):
        images = checked_images(images, self.resolution)  # [B, H, W, 3]
        features = self.encoder(tf.cast(images, self.compute_dtype))  # [B, N, C]
        slots, attn = self.slot_attention(
            features, num_slots=num_slots, num_iterations=num_iterations, seed=seed,
            noise=slot_noise,
        )  # [B, K, D], [B, T, K, N]
        return {
            "pred": self.head(slots),  # [B, K, output_size]
            "slots": tf.cast(slots, tf.float32),  # [B, K, D]
            "attn": tf.cast(attn[:, -1], tf.float32),  # [B, K, N]
        }

    def get_config(self):
        config = super().get_config()
        config.update({
            "resolution": self.resolution,
            "num_slots": self.num_slots,
            "slot_size": self.slot_size,
            "num_iterations": self.num_iterations,
            "mlp_hidden_size": self.mlp_hidden_size,
            "encoder_channels": self.encoder_channels,
            "encoder_kernel_size": self.encoder_kernel_size,
            "encoder_strides": self.encoder_strides,
            "encoder_mlp_size": self.encoder_mlp_size,
            "head_hidden_size": self.head_hidden_size,
            "output_size": self.output_size,
            "slot_init": self.slot_init,
            "implicit_grad": self.implicit_grad,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
