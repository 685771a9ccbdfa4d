"""Image scaling between stored pixels (uint8, 0..255) and model images (float, [-1, 1]),
and turning a decoded image file into a model input as training saw it."""

import numpy as np
import tensorflow as tf


def to_model_range(images):
    """Scales stored pixels to the model's range: 0 -> -1, 255 -> 1.

    Works on numpy arrays and tensors, inside `tf.data` maps and `tf.function`s too.

    Args:
        images: uint8 (or float in [0, 255]) [..., H, W, C].

    Returns:
        float32 tensor [..., H, W, C] in [-1, 1].
    """
    return tf.cast(images, tf.float32) / 127.5 - 1.0  # [..., H, W, C]


def to_uint8(images):
    """Scales model images back to pixels: -1 -> 0, 1 -> 255, rounded, clipped.

    NaN (a diverged model) becomes 128, the middle grey.

    Args:
        images: float [..., H, W, C] in [-1, 1], numpy or tensor.

    Returns:
        uint8 numpy array [..., H, W, C].
    """
    images = np.nan_to_num(np.asarray(images, np.float32))  # [..., H, W, C], NaN -> 0
    return np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


FIT_RULES = ("center", "stretch")  # How a picture of another shape meets the model's size.


def fit_image(image, size, rule="center", method="bilinear"):
    """Brings a picture to the model's size: centre crop to its aspect ratio, then resize.

    "center" keeps the largest centred window whose aspect ratio is the target's, then
    resizes it (no distortion; the borders of the longer side are lost); "stretch" resizes
    the whole picture. A picture already at `size` is returned unchanged. Works eagerly and
    inside `tf.data` maps.

    Args:
        image: [h, w, C] tensor or array (uint8 pixels, or integer ids with "nearest").
        size: (H, W) target size.
        rule: one of FIT_RULES.
        method: "bilinear" (antialiased when shrinking; pictures) or "nearest" (masks).

    Returns:
        float32 tensor [H, W, C] (not rounded).

    Raises:
        ValueError: for an unknown rule.
    """
    if rule not in FIT_RULES:
        raise ValueError(f"unknown crop rule {rule!r}; choose one of {', '.join(FIT_RULES)}")
    image = tf.convert_to_tensor(image)
    target_h, target_w = int(size[0]), int(size[1])
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    if rule == "center":  # Largest window with aspect target_h : target_w.
        crop_h = tf.minimum(h, w * target_h // target_w)
        crop_w = tf.minimum(w, h * target_w // target_h)
        top, left = (h - crop_h) // 2, (w - crop_w) // 2
        image = image[top:top + crop_h, left:left + crop_w]  # [crop_h, crop_w, C]
    image = tf.cast(image, tf.float32)  # [h', w', C]
    same = tf.logical_and(tf.equal(tf.shape(image)[0], target_h),
                          tf.equal(tf.shape(image)[1], target_w))
    fitted = tf.cond(same, lambda: image,
                     lambda: tf.image.resize(image, (target_h, target_w), method=method,
                                             antialias=method == "bilinear"))
    return tf.ensure_shape(fitted, [target_h, target_w, None])  # [H, W, C]


def to_rgb(image):
    """Drops an alpha channel and repeats grayscale to RGB.

    Args:
        image: uint8 [H, W, C] with C in 1..4 (gray, gray + alpha, RGB, RGBA).

    Returns:
        (uint8 [H, W, 3], list of notes saying what was done).

    Raises:
        ValueError: for an image that is not [H, W, 1..4].
    """
    image = np.asarray(image)
    if image.ndim != 3 or not 1 <= image.shape[-1] <= 4:
        raise ValueError(f"has shape {image.shape}, expected [H, W, C] with 1 to 4 channels")
    notes = []
    channels = image.shape[-1]
    if channels in (2, 4):
        image = image[..., :-1]
        notes.append(f"{'RGBA' if channels == 4 else 'gray+alpha'}: alpha channel dropped")
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
        notes.append("grayscale: repeated to RGB")
    return image, notes


def prepare_image(image, resolution, preprocessing=None):
    """Turns a decoded image file into a `serving_default` input, as in training.

    RGBA (and gray + alpha) images lose their alpha channel, grayscale ones are repeated
    to RGB. When the image has the size of the training data's stored images and training
    cropped them (CLEVR6: rows 29:221, columns 64:256 of 240x320), the same crop is taken;
    an image that is not then at the model's resolution is resized (bilinearly, as in
    training, after a training crop; with antialiasing otherwise). For a model trained on
    an image folder the recorded rule ("fit": "center" or "stretch", see
    fit_image) is applied, exactly as the folder reader does.

    Args:
        image: uint8 [H, W, C] with C in 1..4.
        resolution: (height, width) of the model input.
        preprocessing: the export's recorded preprocessing (the dataset's
            `DatasetInfo.preprocessing()`), or None for an export that has none.

    Returns:
        (uint8 [height, width, 3], list of notes saying what was done).

    Raises:
        ValueError: for an image that is not [H, W, 1..4].
    """
    image, notes = to_rgb(image)
    fit = (preprocessing or {}).get("fit")  # Image folders: "center" or "stretch".
    if fit:
        if image.shape[:2] != tuple(resolution):
            height, width = image.shape[:2]
            fitted = fit_image(image, resolution, fit).numpy()
            image = np.clip(np.round(fitted), 0, 255).astype(np.uint8)
            notes.append(f"fitted {width}x{height} to {resolution[1]}x{resolution[0]} "
                         f"({fit}) as in training")
        return image, notes
    crop = (preprocessing or {}).get("crop")
    source = tuple((preprocessing or {}).get("source_size") or ())
    cropped = bool(crop) and image.shape[:2] == source
    if cropped:
        (top, bottom), (left, right) = crop
        image = image[top:bottom, left:right]
        notes.append(f"cropped rows {top}:{bottom}, columns {left}:{right} as in training")
    if image.shape[:2] != tuple(resolution):
        height, width = image.shape[:2]
        resized = tf.image.resize(image.astype(np.float32), resolution, method="bilinear",
                                  antialias=not cropped).numpy()
        image = np.clip(np.round(resized), 0, 255).astype(np.uint8)
        notes.append(f"resized {width}x{height} to {resolution[1]}x{resolution[0]}")
    return image, notes
