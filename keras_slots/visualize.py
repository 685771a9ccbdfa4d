"""Pictures of what the slots do: input, reconstruction, segmentation, per-slot masks."""

import io
import os

import numpy as np

from keras_slots import files
from keras_slots.images import to_uint8

# Distinct colours for slot ids in segmentation pictures (RGB, 0..255).
PALETTE = np.array(
    [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
     [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
     [0, 128, 128], [220, 190, 255], [170, 110, 40], [128, 0, 0], [170, 255, 195],
     [128, 128, 0]],
    dtype=np.uint8,
)


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
    """Writes a uint8 [H, W, 3] picture as an RGB PNG, atomically, on any file system."""
    from PIL import Image  # Pillow comes with matplotlib.

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(picture, np.uint8)).save(buffer, format="PNG")
    files.write_atomic(path, buffer.getvalue())


def _tile_row(panels, gap=2):
    """Concatenates [H, W, 3] uint8 panels left to right with white gaps."""
    padded = [np.pad(p, [(0, gap), (0, gap), (0, 0)], constant_values=255) for p in panels]
    return np.concatenate(padded, axis=1)


def _gray(values):
    """[H, W] values in [0, 1] -> uint8 [H, W, 3] grey image."""
    return np.repeat((np.clip(values, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=-1)


ROW_LABEL_WIDTH = 150  # Pixels left of the panels for the row labels.
TITLE_HEIGHT = 18  # Pixels above a row of panels for the column titles.


def image_report(image, outputs, index=0, scale=4):
    """One image in detail, every row and column labelled.

    Rows: (1) input, reconstruction, segmentation overlaid on the input; (2) each slot's
    mask (white: the slot owns the pixel); (3) each slot's masked reconstruction; (4..) the
    attention of each Slot Attention iteration per slot, on the encoder's feature grid.
    Columns of rows 2 on are the slots, titled "slot 1" ... "slot K".

    Args:
        image: [H, W, 3] input in [-1, 1].
        outputs: model output dict for a batch (numpy), with attn_iterations [B, T, K, N]
            when the model has attention.
        index: which image of the batch `outputs` describes.
        scale: nearest-neighbour upscaling of the panels.

    Returns:
        uint8 picture [height, width, 3].
    """
    masks = outputs["masks"][index, ..., 0]  # [K, H, W]
    recons = outputs["recons"][index]  # [K, H, W, 3]
    height, width = masks.shape[1:]
    seg = segmentation_colors(outputs["masks"][index:index + 1])[0]  # [H, W, 3]
    overlay = (0.5 * to_uint8(image) + 0.5 * seg).astype(np.uint8)
    slot_titles = [f"slot {k + 1}" for k in range(len(masks))]
    rows = [("input / output", [to_uint8(image), to_uint8(outputs["recon"][index]), overlay],
             ["input", "reconstruction", "segmentation"]),
            ("mask", [_gray(m) for m in masks], slot_titles),
            ("masked\nreconstruction",
             [to_uint8(m[..., None] * r + (1 - m[..., None])) for m, r in zip(masks, recons)],
             None)]
    if "attn_iterations" in outputs:  # Slot MLP has no attention to show.
        attn = outputs["attn_iterations"][index]  # [T, K, N]
        rows += [(f"attention,\niteration {t + 1} of {len(attn)}", maps, None)
                 for t, maps in enumerate(_attention_rows(attn, height, width))]
    return _labelled_rows(rows, scale)


def _labelled_rows(rows, scale, gap=2):
    """Tiles (label, panels, column titles or None) rows into one labelled picture."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=13)
    pieces = []
    for label, panels, titles in rows:
        panels = [p.repeat(scale, axis=0).repeat(scale, axis=1) for p in panels]
        tiled = _tile_row(panels, gap)  # [h, w, 3]
        band = np.full((TITLE_HEIGHT if titles else 0, tiled.shape[1], 3), 255, np.uint8)
        block = np.concatenate([band, tiled], axis=0)
        canvas = Image.fromarray(np.pad(block, [(0, 0), (ROW_LABEL_WIDTH, 0), (0, 0)],
                                        constant_values=255))
        draw = ImageDraw.Draw(canvas)
        draw.multiline_text((4, TITLE_HEIGHT if titles else 4), label, fill=(0, 0, 0),
                            font=font)
        step = panels[0].shape[1] + gap
        for i, title in enumerate(titles or []):
            draw.text((ROW_LABEL_WIDTH + i * step + 2, 2), title, fill=(0, 0, 0), font=font)
        pieces.append(np.asarray(canvas))
    full = max(p.shape[1] for p in pieces)
    pieces = [np.pad(p, [(0, 0), (0, full - p.shape[1]), (0, 0)], constant_values=255)
              for p in pieces]
    return np.concatenate(pieces, axis=0)


def _attention_rows(attn, height, width):
    """Rows of per-slot attention maps, one per iteration. attn: [T, K, N]."""
    side = int(round(np.sqrt(attn.shape[-1] * width / height)))
    grid_w, grid_h = side, attn.shape[-1] // side
    rows = []
    for iteration in attn:
        maps = [a.reshape(grid_h, grid_w) for a in iteration]
        maps = [np.kron(m, np.ones((height // grid_h, width // grid_w))) for m in maps]
        rows.append([_gray(m) for m in maps])
    return rows


def read_scalars(log_dir):
    """Reads the scalar summaries of a TensorBoard log folder.

    Returns:
        dict tag -> (steps [n], values [n]) sorted by step.
    """
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    series = {}
    for path in sorted(tf.io.gfile.glob(os.path.join(log_dir, "events.out.tfevents.*"))):
        for record in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    number = float(tf.make_ndarray(value.tensor))
                    series.setdefault(value.tag, {})[event.step] = number
    return {tag: (np.array(sorted(d)), np.array([d[s] for s in sorted(d)]))
            for tag, d in series.items()}


def plot_curves(series, path):
    """Plots each scalar series (loss, learning_rate, ...) against the step into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tags = sorted(series)
    fig, axes = plt.subplots(1, len(tags), figsize=(4 * len(tags), 3), squeeze=False)
    for ax, tag in zip(axes[0], tags):
        steps, values = series[tag]
        ax.plot(steps, values)
        ax.set_title(tag)
        ax.set_xlabel("step")
        if tag == "loss":
            ax.set_yscale("log")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    files.write_atomic(path, buffer.getvalue())
