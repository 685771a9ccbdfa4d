"""Procedural generator of DeepMind Tetrominoes scenes (35x35, 3 non-overlapping pieces).

Each piece is one of the 19 fixed tetrominoes, drawn as 5x5-pixel bevel-shaded blocks at
any pixel offset on a black background, in one of 6 saturated colours. A scene is returned
as a raw scene dict with the published feature names (see keras_slots/data/__init__.py):

    image       uint8   [35, 35, 3]
    mask        uint8   [4, 35, 35, 1]  0/255, entity 0 = background
    x           float32 [4]  top row of the piece's bounding box (pixels; x is the row)
    y           float32 [4]  left column of the piece's bounding box (pixels)
    shape       float32 [4]  piece id 1..19 (index into SHAPES + 1), 0 for background
    color       float32 [4, 3] in [0, 1], 0 for background
    visibility  float32 [4]  1 for every entity, background included

Shape ids follow this module's own enumeration (SHAPES); the published files may number
the 19 pieces differently.
"""

import numpy as np

NAME = "tetrominoes"
IMAGE_SIZE = (35, 35)
NUM_PIECES = 3
MAX_NUM_ENTITIES = NUM_PIECES + 1
BLOCK_SIZE = 5
MAX_TRIES = 1000  # Rejection-sampling attempts per piece before giving up.

# Bevel shading of one block, for a colour channel at full intensity (255).
BLOCK_SHADE = np.array(
    [[191, 255, 255, 255, 223]]
    + [[127, 159, 159, 159, 191]] * 3
    + [[95, 63, 63, 63, 127]],
    dtype=np.uint8,
)  # [5, 5]

# Red, green, blue, yellow, magenta, cyan; each channel is off (0) or full (1).
COLORS = np.array(
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=np.uint8
)  # [6, 3]

# The 7 free tetrominoes as (row, col) block cells; rotations give the 19 fixed ones.
_FREE_TETROMINOES = {
    "I": ((0, 0), (1, 0), (2, 0), (3, 0)),
    "O": ((0, 0), (0, 1), (1, 0), (1, 1)),
    "T": ((0, 0), (0, 1), (0, 2), (1, 1)),
    "S": ((0, 1), (0, 2), (1, 0), (1, 1)),
    "Z": ((0, 0), (0, 1), (1, 1), (1, 2)),
    "J": ((0, 1), (1, 1), (2, 1), (2, 0)),
    "L": ((0, 0), (1, 0), (2, 0), (2, 1)),
}


def _normalise(cells):
    """Shifts cells so the minimum row and column are 0; returns a sorted tuple."""
    rows, cols = zip(*cells)
    return tuple(sorted((r - min(rows), c - min(cols)) for r, c in cells))


def _fixed_tetrominoes():
    """All distinct rotations of the 7 free tetrominoes, in a fixed order (19 shapes)."""
    shapes = []
    for cells in _FREE_TETROMINOES.values():
        for _ in range(4):
            cells = _normalise([(c, -r) for r, c in cells])  # Rotate by 90 degrees.
            if cells not in shapes:
                shapes.append(cells)
    return tuple(shapes)


SHAPES = _fixed_tetrominoes()  # 19 tuples of 4 (row, col) block cells.


def _render_shape(cells):
    """Returns the shaded single-channel sprite [h, w] (uint8) of one tetromino."""
    height = (max(r for r, _ in cells) + 1) * BLOCK_SIZE
    width = (max(c for _, c in cells) + 1) * BLOCK_SIZE
    sprite = np.zeros((height, width), np.uint8)  # [h, w]
    for r, c in cells:
        sprite[r * BLOCK_SIZE:(r + 1) * BLOCK_SIZE, c * BLOCK_SIZE:(c + 1) * BLOCK_SIZE] = (
            BLOCK_SHADE)
    return sprite


_SPRITES = tuple(_render_shape(cells) for cells in SHAPES)  # 19 x [h, w] uint8
_SPRITE_MASKS = tuple(sprite > 0 for sprite in _SPRITES)  # 19 x [h, w] bool


def generate_scene(rng):
    """Generates one Tetrominoes scene.

    Pieces are placed one after another; a piece whose pixels would overlap an earlier
    piece is re-drawn (shape, colour and position) until it fits.

    Args:
        rng: a `np.random.Generator`; the scene is a pure function of its state.

    Returns:
        A raw scene dict (keys and shapes in the module docstring).
    """
    height, width = IMAGE_SIZE
    k = MAX_NUM_ENTITIES
    image = np.zeros((height, width, 3), np.uint8)  # [H, W, 3]
    mask = np.zeros((k, height, width, 1), np.uint8)  # [K, H, W, 1]
    occupied = np.zeros((height, width), bool)  # [H, W]
    x = np.zeros(k, np.float32)  # [K]
    y = np.zeros(k, np.float32)  # [K]
    shape = np.zeros(k, np.float32)  # [K]
    color = np.zeros((k, 3), np.float32)  # [K, 3]
    for piece in range(1, k):
        for _ in range(MAX_TRIES):
            shape_id = rng.integers(len(SHAPES))
            sprite_mask = _SPRITE_MASKS[shape_id]  # [h, w]
            h, w = sprite_mask.shape
            row = rng.integers(height - h + 1)
            col = rng.integers(width - w + 1)
            if not np.any(occupied[row:row + h, col:col + w] & sprite_mask):
                break
        else:
            raise RuntimeError(f"could not place piece {piece} in {MAX_TRIES} tries")
        rgb = COLORS[rng.integers(len(COLORS))]  # [3]
        window = (slice(row, row + h), slice(col, col + w))
        occupied[window] |= sprite_mask
        image[window] += _SPRITES[shape_id][:, :, None] * rgb  # [h, w, 3]
        mask[piece][window] = np.where(sprite_mask, 255, 0)[:, :, None].astype(np.uint8)
        x[piece], y[piece], shape[piece] = row, col, shape_id + 1
        color[piece] = rgb
    mask[0, :, :, 0] = np.where(occupied, 0, 255)
    return {
        "image": image,
        "mask": mask,
        "x": x,
        "y": y,
        "shape": shape,
        "color": color,
        "visibility": np.ones(k, np.float32),
    }

