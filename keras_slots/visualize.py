"""Pictures of what the slots do: input, reconstruction, segmentation, per-slot masks."""

import os

import numpy as np

# Distinct colours for slot ids in segmentation pictures (RGB, 0..255).
PALETTE = np.array(
    [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
     [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
     [0, 128, 128], [220, 190, 255], [170, 110, 40], [128, 0, 0], [170, 255, 195],
     [128, 128, 0]],
    dtype=np.uint8,
)


def to_uint8(images):
    """Maps float images in [-1, 1] to uint8 [0, 255]."""
    images = np.nan_to_num(np.asarray(images, np.float32))  # NaN (diverged model) -> 0
    return np.clip((images + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def segmentation_colors(masks):
    """Colours every pixel by its argmax slot.

    Args:
        masks: [B, K, H, W, 1] soft masks.

    Returns:
        uint8 [B, H, W, 3].
    """
    ids = np.argmax(np.asarray(masks)[..., 0], axis=1)  # [B, H, W]
    return PALETTE[ids % len(PALETTE)]


def slot_grid(images, outputs, max_images=8, gap=2, scale=1):
    """One row per image: input | reconstruction | segmentation | each slot's masked recon.

    A slot's column shows mask * its RGB over a white background, so an unused slot is white.

    Args:
        images: [B, H, W, 3] inputs in [-1, 1].
        outputs: the model's output dict (recon, recons, masks), numpy or tensors.
        max_images: rows to draw at most.
        gap: white pixels between panels.
        scale: integer nearest-neighbour upscaling factor.

    Returns:
        uint8 [rows * (H + gap), columns * (W + gap), 3] picture.
    """
    n = min(len(images), max_images)
    masks = np.asarray(outputs["masks"])[:n]  # [n, K, H, W, 1]
    recons = np.asarray(outputs["recons"])[:n]  # [n, K, H, W, 3]
    per_slot = masks * recons + (1.0 - masks) * 1.0  # [n, K, H, W, 3] on white
    columns = [to_uint8(images[:n]), to_uint8(outputs["recon"][:n]), segmentation_colors(masks)]
    columns += [to_uint8(per_slot[:, k]) for k in range(per_slot.shape[1])]
    panels = np.stack(columns, axis=1)  # [n, C, H, W, 3]
    if scale > 1:
        panels = panels.repeat(scale, axis=2).repeat(scale, axis=3)
    panels = np.pad(panels, [(0, 0), (0, 0), (0, gap), (0, gap), (0, 0)], constant_values=255)
    rows, cols, h, w, _ = panels.shape
    return panels.transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, 3)  # [rows*h, cols*w, 3]


def save_png(path, picture):
    """Writes a uint8 [H, W, 3] picture as an RGB PNG (atomically: temp file, then rename)."""
    from PIL import Image  # Pillow comes with matplotlib.

    tmp = f"{path}.tmp"
    Image.fromarray(np.asarray(picture, np.uint8)).save(tmp, format="PNG")
    os.replace(tmp, path)
