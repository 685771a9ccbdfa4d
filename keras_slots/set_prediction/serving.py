"""SavedModel export of a set-prediction model: per-slot properties decoded to names."""

import tensorflow as tf

from keras_slots.config import SET_PREDICTION
from keras_slots.export import SERVING_SEED, shared_slot_noise, write_serving_export
from keras_slots.set_prediction import targets

# How images become model inputs (recorded in exports): the whole frame, no crop, resized
# bilinearly to the model's resolution.
PREPROCESSING = {"source_size": None, "crop": None, "resize_method": "bilinear",
                 "channels": 3}


def decode_tensors(pred):
    """Decodes predictions in-graph into readable per-slot properties.

    Args:
        pred: float [B, K, 19] predictions in the target layout.

    Returns:
        dict: "coords" float32 [B, K, 3] in original units, "size", "material", "shape",
        "color" string [B, K] class names (argmax), "real_object" float32 [B, K] score and
        "pred" float32 [B, K, 19] the raw outputs.
    """
    pred = tf.cast(pred, tf.float32)  # [B, K, 19]
    out = {"coords": pred[..., targets.COORDS] * targets.COORD_SCALE - targets.COORD_OFFSET}
    for prop, block in targets.PROPERTY_SLICES.items():
        index = tf.argmax(pred[..., block], axis=-1)  # [B, K]
        out[prop] = tf.gather(tf.constant(targets.PROPERTIES[prop]), index)  # [B, K]
    out["real_object"] = pred[..., targets.REAL_OBJECT]  # [B, K]
    out["pred"] = pred
    return out


def export_set_predictor(model, export_dir, metadata, num_slots=None, num_iterations=None):
    """Writes a SlotAttentionSetPredictor as a SavedModel that runs without keras_slots.

    Endpoints:
        serving_default(images: uint8 [B, H, W, 3] in 0..255) -> `decode_tensors` dict,
            with the slot noise seeded by SERVING_SEED (repeatable outputs).
        predict_float(images: float32 [B, H, W, 3] in [-1, 1], seed: int32 [2]) -> the
            same dict.
        metadata() -> JSON string of `metadata` (also written to keras_slots.json).
    Every image of a batch gets the same slot noise, so its outputs do not depend on the
    rest of the batch.
    The Keras model is saved beside it as model.keras (`keras.saving.load_model` reads it
    after `import keras_slots`).

    Args:
        model: a built SlotAttentionSetPredictor.
        export_dir: destination folder; a local export there is replaced once the new one
            is complete.
        metadata: JSON-serialisable dict stored with the export.
        num_slots: slots of the exported model (default: trained).
        num_iterations: iterations of the exported model (default: trained).

    Returns:
        export_dir.
    """
    height, width = model.resolution
    metadata = dict(metadata, task=SET_PREDICTION,
                    preprocessing=dict(metadata.get("preprocessing") or PREPROCESSING,
                                       resize=[height, width]),
                    num_slots=num_slots or model.num_slots,
                    num_iterations=num_iterations or model.num_iterations,
                    serving_seed=list(SERVING_SEED), resolution=[height, width],
                    properties={prop: list(names)
                                for prop, names in targets.PROPERTIES.items()})

    def run(images, seed):
        noise = shared_slot_noise(model, images, seed, num_slots)  # [B, K, D] or None
        pred = model(images, num_slots=num_slots, num_iterations=num_iterations,
                     slot_noise=noise)["pred"]  # [B, K, 19]
        return decode_tensors(pred)

    return write_serving_export(model, run, export_dir, metadata)
