"""A picture of set predictions: the image beside a table of the predicted objects.

Each predicted object (real-object score >= `min_score`, best first) is a numbered row:
score, size, material, colour (with a swatch), shape and 3D position; the ground truth,
when given, follows in grey. With the camera of the built-in renderer (CLEVR's nominal
camera) the positions are also marked on the image: predictions as numbered circles,
true objects as crosses.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_slots.data import clevr_camera  # noqa: E402
from keras_slots.images import to_uint8  # noqa: E402
from keras_slots.set_prediction import targets  # noqa: E402

SWATCHES = {  # CLEVR's colour names -> RGB in [0, 1] for the table.
    "gray": (0.34, 0.34, 0.34), "blue": (0.16, 0.29, 0.84), "brown": (0.51, 0.29, 0.10),
    "yellow": (1.0, 0.93, 0.20), "red": (0.68, 0.14, 0.14), "green": (0.11, 0.41, 0.08),
    "purple": (0.51, 0.15, 0.75), "cyan": (0.16, 0.82, 0.82),
}
RENDERER_ASPECT = clevr_camera.IMAGE_WIDTH / clevr_camera.IMAGE_HEIGHT  # 320 / 240


def frame_aspect(data_dir):
    """The `frame_aspect` for images of a data_dir: the renderer's for built-in data (None),
    else None (no position marks: CLEVR v1 cameras are jittered per scene)."""
    return RENDERER_ASPECT if not data_dir else None


def project_normalized(coords, frame_aspect=RENDERER_ASPECT):
    """3D CLEVR positions -> (x, y) in [0, 1] image units through the nominal camera.

    Args:
        coords: float [N, 3] positions in original units.
        frame_aspect: width / height of the rendered frame before it was resized.

    Returns:
        float [N, 2]: x right, y down, as fractions of the image width and height.
    """
    right, up, forward = clevr_camera.camera_frame()
    rel = np.asarray(coords, np.float64).reshape(-1, 3) - clevr_camera.CAMERA_POSITION
    depth = rel @ forward  # [N]
    focal = clevr_camera.FOCAL_LENGTH_MM / clevr_camera.SENSOR_WIDTH_MM  # image widths
    x = 0.5 + focal * (rel @ right) / depth  # [N]
    y = 0.5 - focal * frame_aspect * (rel @ up) / depth  # [N]
    return np.stack([x, y], axis=-1)


def _rows(values, min_score):
    """Decoded objects with score >= min_score, best first: list of (slot, dict)."""
    objects = targets.decode_names(values)
    order = np.argsort([-obj["real_object"] for obj in objects], kind="stable")
    return [(int(i), objects[i]) for i in order if objects[i]["real_object"] >= min_score]


def draw_predictions(image, pred, target=None, *, min_score=0.5,
                     frame_aspect=RENDERER_ASPECT, dpi=80):
    """Draws one scene's predictions next to its image.

    Args:
        image: float [H, W, 3] in [-1, 1] (the model input).
        pred: [K, 19] predictions of the scene.
        target: optional [T, 19] ground truth (padding rows are skipped).
        min_score: predictions with a lower real-object score are left out.
        frame_aspect: width / height of the frame the image was resized from, for the
            position marks (4/3: the built-in renderer); None draws no marks (CLEVR v1
            cameras are jittered per scene).
        dpi: resolution of the picture.

    Returns:
        uint8 [h, w, 3] picture; its size depends only on K, T and dpi.
    """
    predicted = _rows(pred, min_score)
    truth = _rows(target, 0.5) if target is not None else []
    # Room for every slot and target row, so scenes of one model draw at one size.
    lines = 3 + len(pred) + (len(target) + 2 if target is not None else 0)
    height = max(3.2, 0.22 * lines)
    fig = plt.figure(figsize=(3.2 + 5.6, height), dpi=dpi)
    ax_image = fig.add_axes([0.01, 1 - 3.1 / height, 3.1 / 8.8, 3.0 / height])
    ax_image.imshow(to_uint8(np.asarray(image)))
    ax_image.set_axis_off()
    size = np.asarray(image).shape[:2]
    if frame_aspect is not None:
        for slot, obj in predicted:
            x, y = project_normalized(obj["coords"], frame_aspect)[0]
            ax_image.text(x * size[1], y * size[0], str(slot), color="black", fontsize=7,
                          ha="center", va="center",
                          bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "alpha": 0.8})
        for _, obj in truth:
            x, y = project_normalized(obj["coords"], frame_aspect)[0]
            ax_image.plot(x * size[1], y * size[0], "x", color="black", markersize=5)
    ax_image.set_xlim(0, size[1])
    ax_image.set_ylim(size[0], 0)
    ax_table = fig.add_axes([3.3 / 8.8, 0.0, 5.4 / 8.8, 1.0])
    ax_table.set_axis_off()
    step = 1.0 / lines
    y = 1.0 - step

    def write(text, color="black", swatch=None, bold=False):
        nonlocal y
        ax_table.text(0.05, y, text, family="monospace", fontsize=8, color=color, va="center",
                      weight="bold" if bold else "normal")
        if swatch is not None:
            ax_table.add_patch(plt.Rectangle((0.0, y - 0.35 * step), 0.035, 0.7 * step,
                                             color=SWATCHES[swatch]))
        y -= step

    header = f"{'slot':>4} {'score':>5}  {'size':<5} {'material':<8} {'colour':<6} " \
             f"{'shape':<8} {'x':>5} {'y':>5} {'z':>5}"
    write(f"predicted (score >= {min_score:g}): {len(predicted)}", bold=True)
    write(header)
    for slot, obj in predicted:
        write(_line(str(slot), obj), swatch=obj["color"])
    if target is not None:
        write(f"true objects: {len(truth)}", bold=True, color="dimgray")
        for index, obj in truth:
            write(_line("", obj, score=False), color="dimgray", swatch=obj["color"])
    fig.canvas.draw()
    picture = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # [h, w, 3]
    plt.close(fig)
    return picture


def _line(label, obj, score=True):
    x, y, z = obj["coords"]
    shown = f"{obj['real_object']:5.2f}" if score else " " * 5
    return (f"{label:>4} {shown}  {obj['size']:<5} {obj['material']:<8} {obj['color']:<6} "
            f"{obj['shape']:<8} {x:5.2f} {y:5.2f} {z:5.2f}")
