"""SavedModel export with a serving signature, written atomically."""

import json
import os

import keras
import tensorflow as tf

from keras_slots import files
from keras_slots import images as images_lib

SERVING_SEED = (0, 0)  # Slot noise seed of `serving_default`: outputs are repeatable.
METADATA_FILE = "keras_slots.json"
KERAS_FILE = "model.keras"  # The Keras model beside the SavedModel (needs keras_slots).
OUTPUT_KEYS = ("recon", "recons", "masks", "slots", "attn", "attn_iterations", "segmentation")


def export_saved_model(model, export_dir, metadata, num_slots=None, num_iterations=None):
    """Writes `model` as a SavedModel that needs neither keras_slots nor Keras to run.

    Endpoints:
        serving_default(images: uint8 [B, H, W, 3] in 0..255) -> dict, with the slot noise
            seeded by SERVING_SEED.
        predict_float(images: float32 [B, H, W, 3] in [-1, 1], seed: int32 [2]) -> dict.
    Every image of a batch gets the same slot noise (`shared_slot_noise`), so its outputs
    do not depend on the rest of the batch.
    Both return recon [B, H, W, 3] and recons [B, K, H, W, 3] in [-1, 1], masks
    [B, K, H, W, 1], slots [B, K, D], attn [B, K, N] (last iteration) and attn_iterations
    [B, T, K, N] (models with an iterative slot module only) and segmentation int32
    [B, H, W] (argmax slot per pixel). `metadata`
    (config, step, ...) is written to keras_slots.json inside the export and returned by the
    `metadata` endpoint as a JSON string. The Keras model itself is saved as model.keras in
    the same folder: `keras.saving.load_model` reads it after `import keras_slots`.

    Args:
        model: a built SlotAttentionAutoEncoder.
        export_dir: destination folder, local or on any file system TensorFlow knows
            (gs://...); on a local disk an existing export there is replaced only once the
            new one is complete, elsewhere it is deleted first.
        metadata: JSON-serialisable dict stored with the export.
        num_slots: slots of the exported model (default: trained).
        num_iterations: iterations of the exported model (default: trained).

    Returns:
        export_dir.
    """
    height, width = model.resolution
    metadata = dict(metadata, num_slots=num_slots or model.num_slots,
                    num_iterations=num_iterations or model.num_iterations,
                    serving_seed=list(SERVING_SEED), resolution=[height, width])

    def run(images, seed):
        noise = shared_slot_noise(model, images, seed, num_slots)  # [B, K, D] or None
        out = model(images, num_slots=num_slots, num_iterations=num_iterations,
                    slot_noise=noise)
        result = {key: out[key] for key in OUTPUT_KEYS[:-1] if key in out}
        result["segmentation"] = tf.argmax(out["masks"][..., 0], axis=1,
                                           output_type=tf.int32)  # [B, H, W]
        return result

    return write_serving_export(model, run, export_dir, metadata)


def shared_slot_noise(model, images, seed, num_slots=None):
    """Slot noise drawn once and shared by every image of a batch.

    With it an image's outputs do not depend on the other images in its batch, nor on the
    batch size: `predict.py` gives one image the same masks alone as in a folder.

    Args:
        model: a model whose `slot_attention` is the slot module.
        images: [B, H, W, 3] batch (only its size is used).
        seed: int32 [2] seed of the noise.
        num_slots: slots K (default: the model's).

    Returns:
        float32 [B, K, D] standard normal noise, the same [K, D] for every image; None for a
        slot module without Gaussian initialisation (learned queries, Slot MLP).
    """
    module = model.slot_attention
    if getattr(module, "slot_init", None) != "gaussian":
        return None
    num_slots = num_slots or module.num_slots
    noise = tf.random.stateless_normal([1, num_slots, module.slot_size],
                                       seed=tf.cast(seed, tf.int32))  # [1, K, D]
    return tf.broadcast_to(noise, [tf.shape(images)[0], num_slots, module.slot_size])


def write_serving_export(model, run, export_dir, metadata):
    """Writes a SavedModel of `run` with its serving endpoints, metadata and model.keras.

    Endpoints: serving_default(images uint8 [B, H, W, 3]) runs `run` on the images scaled
    to [-1, 1] with the slot noise seeded by SERVING_SEED; predict_float(images float32
    [B, H, W, 3], seed int32 [2]) is `run` itself; metadata() returns `metadata` as JSON.

    Args:
        model: the built Keras model `run` calls (tracked, and saved as model.keras).
        run: function (images float32 [B, H, W, 3] in [-1, 1], seed int32 [2]) -> dict of
            tensors.
        export_dir: destination folder, local or on any file system TensorFlow knows; on a
            local disk an existing export there is replaced only once the new one is
            complete, elsewhere it is deleted first.
        metadata: JSON-serialisable dict, also written to keras_slots.json.

    Returns:
        export_dir (absolute for a local one).
    """
    height, width = model.resolution
    metadata_json = json.dumps(metadata, sort_keys=True)

    def serve_uint8(images):
        floats = images_lib.to_model_range(images)  # [B, H, W, 3] in [-1, 1]
        return run(floats, tf.constant(SERVING_SEED, tf.int32))

    archive = keras.export.ExportArchive()
    archive.track(model)
    image_shape = [None, height, width, 3]
    archive.add_endpoint("serving_default", serve_uint8,
                         input_signature=[tf.TensorSpec(image_shape, tf.uint8, name="images")])
    archive.add_endpoint("predict_float", run, input_signature=[
        tf.TensorSpec(image_shape, tf.float32, name="images"),
        tf.TensorSpec([2], tf.int32, name="seed")])
    archive.add_endpoint("metadata", lambda: tf.constant(metadata_json), input_signature=[])

    def write(folder):
        archive.write_out(folder, verbose=False)
        with tf.io.gfile.GFile(os.path.join(folder, METADATA_FILE), "w") as f:
            f.write(json.dumps(metadata, indent=2, sort_keys=True))
        model.save(os.path.join(folder, KERAS_FILE))

    if not files.is_local(export_dir):  # gs://, ram://, ...: no atomic folder rename there.
        if tf.io.gfile.exists(export_dir):
            tf.io.gfile.rmtree(export_dir)
        write(export_dir)
        return export_dir
    with files.atomic_dir(export_dir) as tmp:
        write(tmp)
    return os.path.abspath(export_dir)
