"""The one place that maps a model config to layers and a built model."""

from keras_slots.layers import CNNEncoder, SlotAttention, SlotMLP, SpatialBroadcastDecoder
from keras_slots.models.autoencoder import SlotAttentionAutoEncoder
from keras_slots.models.set_prediction import SlotAttentionSetPredictor
from keras_slots.set_prediction import targets


def keras_policy(dtype):
    """The Keras dtype policy of a compute dtype: weights stay float32 in both cases."""
    return "mixed_bfloat16" if dtype == "bfloat16" else "float32"


def weights_by_path(model):
    """{weight path inside the model ('encoder/conv_0/kernel'): variable}: the names by which
    weights move between models of the same layers (warm starts, checkpoint imports)."""
    prefix = model.name + "/"
    return {w.path[len(prefix):] if w.path.startswith(prefix) else w.path: w
            for w in model.weights}


def build_layers(model_config, dtype=None, seed=None):
    """Creates (unbuilt) the encoder, slot module and decoder a ModelConfig describes.

    Args:
        model_config: a ModelConfig; `slot_encoder` picks the slot module ("slot_attention",
            the paper's model, or "slot_mlp", its Slot MLP baseline: the encoder's feature
            map resized to 8x8, flattened -> MLP -> K ordered slots).
        dtype: the layers' dtype policy (None: Keras' global policy).
        seed: seed of the slot noise when calls pass no explicit seed.

    Returns:
        dict with "encoder", "slot_attention" and "decoder": the autoencoder's arguments.
    """
    c = model_config
    encoder = CNNEncoder(c.encoder_channels, c.encoder_kernel_size, mlp_size=c.encoder_mlp_size,
                         name="encoder", dtype=dtype)
    if c.slot_encoder == "slot_mlp":
        slots = SlotMLP(c.num_slots, c.slot_size, c.mlp_hidden_size,
                        feature_resolution=c.resolution, name="slot_mlp", dtype=dtype)
    else:  # ModelConfig admits no other name.
        slots = SlotAttention(c.num_slots, c.slot_size, c.num_iterations, c.mlp_hidden_size,
                              slot_init=c.slot_init, implicit_grad=c.implicit_grad, seed=seed,
                              name="slot_attention", dtype=dtype)
    decoder = SpatialBroadcastDecoder(
        c.decoder_initial_resolution, c.decoder_channels, c.decoder_strides,
        kernel_size=c.decoder_kernel_size, position_scale=c.decoder_position_scale,
        fourier_bands=c.decoder_fourier_bands, name="decoder", dtype=dtype)
    return {"encoder": encoder, "slot_attention": slots, "decoder": decoder}


def create_model(model_config, compute_dtype="float32", seed=None):
    """Builds the autoencoder of a ModelConfig and creates its weights.

    Args:
        model_config: a ModelConfig.
        compute_dtype: "float32", or "bfloat16" (bfloat16 compute, float32 weights); see
            `keras_slots.precision.resolve` for choosing one per machine.
        seed: seed of the slot noise when no explicit seed is passed.

    Returns:
        A built SlotAttentionAutoEncoder.
    """
    policy = keras_policy(compute_dtype)
    model = SlotAttentionAutoEncoder(**build_layers(model_config, dtype=policy, seed=seed),
                                     dtype=policy)
    model.build((None, *model_config.resolution, 3))
    return model


def create_set_predictor(model_config, compute_dtype="float32", seed=None):
    """Builds the set-prediction model of a SetPredictionModelConfig and creates its weights.

    Args:
        model_config: a SetPredictionModelConfig.
        compute_dtype: "float32", or "bfloat16" (bfloat16 compute, float32 weights).
        seed: seed of the slot noise when no explicit seed is passed.

    Returns:
        A built SlotAttentionSetPredictor predicting `targets.ELEMENT_SIZE` numbers per slot.
    """
    c = model_config
    policy = keras_policy(compute_dtype)
    model = SlotAttentionSetPredictor(
        resolution=c.resolution, num_slots=c.num_slots, slot_size=c.slot_size,
        num_iterations=c.num_iterations, mlp_hidden_size=c.mlp_hidden_size,
        encoder_channels=c.encoder_channels, encoder_kernel_size=c.encoder_kernel_size,
        encoder_strides=c.encoder_strides, encoder_mlp_size=c.encoder_mlp_size,
        head_hidden_size=c.head_hidden_size, output_size=targets.ELEMENT_SIZE,
        slot_init=c.slot_init, implicit_grad=c.implicit_grad, seed=seed, dtype=policy)
    model.build((None, *c.resolution, 3))
    return model
