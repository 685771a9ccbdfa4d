"""CNN encoder: image -> set of position-aware features for Slot Attention."""

import keras
import tensorflow as tf

from keras_slots.layers.position import SoftPositionEmbed, layer_strides


@keras.saving.register_keras_serializable(package="keras_slots")
class CNNEncoder(keras.layers.Layer):
    """Conv stack + soft position embedding + flatten + LayerNorm + MLP (paper appendix E).

    Args:
        channels: output channels of each conv layer, e.g. (64, 64, 64, 64).
        kernel_size: square kernel size of every conv.
        strides: stride of each conv (same length as channels); paper: all 1 for object
            discovery, (1, 2, 2, 1) for set prediction.
        mlp_size: units of both MLP layers (hidden relu, then linear).

    Call arguments:
        images: [B, H, W, 3] images in [-1, 1].

    Returns:
        [B, N, mlp_size] features, N = H' * W' (the conv output grid).

    Example:
        >>> enc = CNNEncoder(channels=(32, 32), kernel_size=5, strides=(1, 1), mlp_size=32)
        >>> enc(np.zeros((2, 35, 35, 3), "float32")).shape
        TensorShape([2, 1225, 32])
    """

    def __init__(self, channels, kernel_size=5, strides=None, mlp_size=64, **kwargs):
        super().__init__(**kwargs)
        strides = layer_strides(channels, strides)
        # === Config ===
        self.channels = tuple(channels)
        self.kernel_size = kernel_size
        self.strides = strides
        self.mlp_size = mlp_size

    def build(self, images_shape):
        policy = self.dtype_policy
        # === Layers ===
        # A tuple, not a list: Keras wraps lists in a way tf.train.Checkpoint does not track.
        self.convs = tuple(
            keras.layers.Conv2D(
                c, self.kernel_size, strides=s, padding="same", activation="relu",
                name=f"conv_{i}", dtype=policy,
            )
            for i, (c, s) in enumerate(zip(self.channels, self.strides))
        )
        self.position = SoftPositionEmbed(name="position", dtype=policy)
        self.norm = keras.layers.LayerNormalization(name="norm", dtype=policy)
        self.mlp_hidden = keras.layers.Dense(
            self.mlp_size, activation="relu", name="mlp_hidden", dtype=policy
        )
        self.mlp_out = keras.layers.Dense(self.mlp_size, name="mlp_out", dtype=policy)
        shape = tuple(images_shape)
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        self.position.build(shape)
        self.norm.build((None, None, shape[-1]))
        self.mlp_hidden.build((None, None, shape[-1]))
        self.mlp_out.build((None, None, self.mlp_size))
        self.built = True

    def call(self, images):
        x = images  # [B, H, W, 3]
        for conv in self.convs:
            x = conv(x)  # [B, H', W', C]
        x = self.position(x)  # [B, H', W', C]
        shape = tf.shape(x)
        x = tf.reshape(x, [shape[0], shape[1] * shape[2], x.shape[-1]])  # [B, N, C]
        x = self.norm(x)
        return self.mlp_out(self.mlp_hidden(x))  # [B, N, mlp_size]

    def compute_output_shape(self, images_shape):
        batch, height, width = images_shape[0], images_shape[1], images_shape[2]
        for stride in self.strides:  # "same" padding: ceil(size / stride)
            height = None if height is None else -(-height // stride)
            width = None if width is None else -(-width // stride)
        n = None if height is None or width is None else height * width
        return (batch, n, self.mlp_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "channels": self.channels,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "mlp_size": self.mlp_size,
            }
        )
        return config
