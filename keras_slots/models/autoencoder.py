"""Object discovery autoencoder: encoder -> slot module -> per-slot decoder -> alpha blend."""

import keras
import tensorflow as tf

from keras_slots.models.inputs import checked_images

# Keys of a model config written before the autoencoder took its layers as arguments: the
# fields of ModelConfig, from which `from_config` rebuilds the layers.
_OLD_FORMAT_KEY = "encoder_channels"


@keras.saving.register_keras_serializable(package="keras_slots")
class SlotAttentionAutoEncoder(keras.Model):
    """The paper's object discovery model, assembled from an encoder, a slot module, a decoder.

    The encoder turns images into a set of features, the slot module binds them to K slots
    and the decoder maps each slot to RGB + an alpha logit; masks = softmax(alpha) over slots
    and the reconstruction is the mask-weighted sum of the per-slot RGB images.
    `keras_slots.models.create_model` builds one from a `ModelConfig`.

    Args:
        encoder: layer, images [B, H, W, 3] -> features [B, N, C] (e.g. layers.CNNEncoder).
        slot_attention: the slot module, features [B, N, C] -> slots [B, K, D], or
            (slots, attention [B, T, K, N]) for an iterative module such as
            layers.SlotAttention; it has a `num_slots` attribute and takes `num_slots`,
            `seed` and `noise` call arguments (`num_iterations` too if it iterates).
            layers.SlotMLP is the paper's non-iterative baseline.
        decoder: layer, slots [B, K, D] -> [B, K, H, W, 4] with an `output_resolution`
            attribute (e.g. layers.SpatialBroadcastDecoder); it sets the input resolution.

    Call arguments:
        images: [B, H, W, 3] float images in [-1, 1].
        num_slots: optional int, slots to use (default: trained value).
        num_iterations: optional int, iterations of an iterative slot module (default:
            trained value).
        seed: optional int32 [2] tensor making the slot noise repeatable.
        slot_noise: optional [B, K, D] standard normal noise of the initial slots (overrides
            seed).

    Returns:
        dict with recon [B, H, W, 3], recons [B, K, H, W, 3], masks [B, K, H, W, 1],
        slots [B, K, D] and, when the slot module returns attention, attn [B, K, N] (last
        iteration) and attn_iterations [B, T, K, N]; all float32.

    Example:
        >>> from keras_slots.config import get_preset
        >>> from keras_slots.models import create_model
        >>> model = create_model(get_preset("tetrominoes").model)
        >>> model(np.zeros((2, 35, 35, 3), "float32"))["masks"].shape
        TensorShape([2, 4, 35, 35, 1])
    """

    def __init__(self, encoder, slot_attention, decoder, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        # The attribute names are the checkpoint and .keras weight paths: keep them.
        self.encoder = encoder
        self.slot_attention = slot_attention
        self.decoder = decoder

    @property
    def resolution(self):
        """(H, W) of the input images: the decoder's output resolution."""
        return tuple(self.decoder.output_resolution)

    @property
    def num_slots(self):
        """The trained number of slots."""
        return self.slot_attention.num_slots

    @property
    def num_iterations(self):
        """The trained number of iterations, or None for a non-iterative slot module."""
        return getattr(self.slot_attention, "num_iterations", None)

    def build(self, images_shape):
        # Layers from `from_config` arrive built (their configs record their input shapes).
        features_shape = self.encoder.compute_output_shape(images_shape)  # [B, N, C]
        shapes = ((self.encoder, images_shape),
                  (self.slot_attention, (None, None, features_shape[-1])),
                  (self.decoder, (None, None, self.slot_attention.slot_size)))
        for layer, shape in shapes:
            if not layer.built:
                layer.build(shape)
        self.built = True

    def call(self, images, num_slots=None, num_iterations=None, seed=None, slot_noise=None,
             training=None):
        images = checked_images(images, self.resolution)  # [B, H, W, 3]
        features = self.encoder(tf.cast(images, self.compute_dtype))  # [B, N, C]
        options = {"num_slots": num_slots, "seed": seed, "noise": slot_noise}
        if num_iterations is not None:
            if self.num_iterations is None:
                raise ValueError(f"the slot module {self.slot_attention.name} does not "
                                 f"iterate; num_iterations must be None")
            options["num_iterations"] = num_iterations
        found = self.slot_attention(features, **options)  # slots, or (slots, attn)
        slots, attn = found if isinstance(found, (tuple, list)) else (found, None)
        decoded = tf.cast(self.decoder(slots), tf.float32)  # [B, K, H, W, 4]
        recons, alpha = decoded[..., :3], decoded[..., 3:]  # [B, K, H, W, 3], [B, K, H, W, 1]
        masks = tf.nn.softmax(alpha, axis=1)  # [B, K, H, W, 1]
        recon = tf.reduce_sum(recons * masks, axis=1)  # [B, H, W, 3]
        outputs = {"recon": recon, "recons": recons, "masks": masks,
                   "slots": tf.cast(slots, tf.float32)}
        if attn is not None:
            attn = tf.cast(attn, tf.float32)  # [B, T, K, N]
            outputs.update(attn=attn[:, -1], attn_iterations=attn)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({name: keras.layers.serialize(getattr(self, name))
                       for name in ("encoder", "slot_attention", "decoder")})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if _OLD_FORMAT_KEY in config:  # ModelConfig fields: files of before 2026-11.
            raise ValueError("this model.keras holds the model config of an older keras_slots "
                             "(before the layers were arguments); export its run again")
        for name in ("encoder", "slot_attention", "decoder"):
            config[name] = keras.layers.deserialize(config[name])
        return cls(**config)
