"""Tests for the Tetrominoes scene generator."""

import hashlib
import itertools

import numpy as np
import pytest

from keras_slots.data import registry
from keras_slots.data import seeding
from keras_slots.data import tetrominoes

# Written out here from the dataset description, independently of the module's tables.
SHADE = np.array([[191, 255, 255, 255, 223],
                  [127, 159, 159, 159, 191],
                  [127, 159, 159, 159, 191],
                  [127, 159, 159, 159, 191],
                  [95, 63, 63, 63, 127]])
ALLOWED_VALUES = {0, 63, 95, 127, 159, 191, 223, 255}
SIX_COLOURS = {(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1)}


def _scene(seed, index=0):
    return tetrominoes.generate_scene(seeding.scene_rng(seed, "train", index))


def _connected(cells):
    cells = set(cells)
    seen, todo = set(), [next(iter(cells))]
    while todo:
        r, c = todo.pop()
        if (r, c) in seen:
            continue
        seen.add((r, c))
        todo += [n for n in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)) if n in cells]
    return seen == cells


def _normalise(cells):
    r0 = min(r for r, _ in cells)
    c0 = min(c for _, c in cells)
    return frozenset((r - r0, c - c0) for r, c in cells)


def test_shapes_are_exactly_the_19_fixed_tetrominoes():
    grid = [(r, c) for r in range(4) for c in range(4)]
    brute_force = {_normalise(cells) for cells in itertools.combinations(grid, 4)
                   if _connected(cells)}
    assert len(brute_force) == 19
    shapes = [frozenset(cells) for cells in tetrominoes.SHAPES]
    assert len(shapes) == 19 and len(set(shapes)) == 19
    assert all(len(cells) == 4 and _connected(cells) for cells in shapes)
    assert set(shapes) == brute_force


def test_scene_dtypes_and_shapes():
    scene = _scene(0)
    expected = {"image": (np.uint8, (35, 35, 3)), "mask": (np.uint8, (4, 35, 35, 1)),
                "x": (np.float32, (4,)), "y": (np.float32, (4,)),
                "shape": (np.float32, (4,)), "color": (np.float32, (4, 3)),
                "visibility": (np.float32, (4,))}
    assert set(scene) == set(expected)
    for key, (dtype, shape) in expected.items():
        assert scene[key].dtype == dtype, key
        assert scene[key].shape == shape, key


@pytest.mark.parametrize("seed", range(20))
def test_masks_partition_image_and_pieces_have_100_pixels(seed):
    scene = _scene(seed)
    mask, image = scene["mask"][..., 0], scene["image"]  # [4, 35, 35], [35, 35, 3]
    assert set(np.unique(mask)) <= {0, 255}
    np.testing.assert_array_equal((mask == 255).sum(axis=0), np.ones((35, 35)))
    lit = image.max(axis=-1) > 0  # [35, 35]
    for k in range(1, 4):
        assert (mask[k] == 255).sum() == 100
        assert lit[mask[k] == 255].all()
    assert not lit[mask[0] == 255].any()
    assert set(np.unique(image)) <= ALLOWED_VALUES


@pytest.mark.parametrize("seed", range(20))
def test_image_and_masks_match_an_independent_rendering_of_the_features(seed):
    scene = _scene(seed, index=seed * 7)
    image = np.zeros((35, 35, 3), np.int64)
    masks = np.zeros((4, 35, 35), np.int64)
    for k in range(1, 4):
        cells = tetrominoes.SHAPES[int(scene["shape"][k]) - 1]
        colour = scene["color"][k]
        assert tuple(colour.astype(int)) in SIX_COLOURS
        top, left = int(scene["x"][k]), int(scene["y"][k])
        assert (top, left) == (scene["x"][k], scene["y"][k])
        for r, c in cells:
            rows = slice(top + 5 * r, top + 5 * r + 5)
            cols = slice(left + 5 * c, left + 5 * c + 5)
            assert not masks[:, rows, cols].any(), "pieces overlap"
            image[rows, cols] = SHADE[:, :, None] * colour.astype(int)
            masks[k, rows, cols] = 255
        # x / y are the top row / left column of the piece's bounding box.
        ys, xs = np.nonzero(masks[k])
        assert (ys.min(), xs.min()) == (top, left)
    masks[0] = 255 - masks[1:].sum(axis=0)
    np.testing.assert_array_equal(scene["image"], image)
    np.testing.assert_array_equal(scene["mask"][..., 0], masks)
    np.testing.assert_array_equal(scene["visibility"], np.ones(4))
    assert scene["shape"][0] == 0 and scene["x"][0] == 0 and scene["y"][0] == 0
    np.testing.assert_array_equal(scene["color"][0], np.zeros(3))


def test_all_shapes_colours_and_pixel_offsets_occur():
    batch = registry.get("tetrominoes").generate_scenes(0, "train", range(500))
    assert set(np.unique(batch["shape"][:, 1:])) == set(range(1, 20))
    colours = {tuple(c) for c in batch["color"][:, 1:].reshape(-1, 3).astype(int)}
    assert colours == SIX_COLOURS
    # Blocks sit at any pixel offset, not on a 5-pixel grid.
    assert set(np.unique(batch["x"][:, 1:] % 5)) == {0, 1, 2, 3, 4}
    assert set(np.unique(batch["y"][:, 1:] % 5)) == {0, 1, 2, 3, 4}
    # Two pieces of one scene sometimes share a colour.
    shared = [len({tuple(c) for c in scene[1:]}) < 3 for scene in batch["color"]]
    assert any(shared) and not all(shared)


def test_same_seed_same_bytes_and_different_index_different_scene():
    a, b = _scene(3, index=5), _scene(3, index=5)
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
    assert _scene(3, index=6)["image"].tobytes() != a["image"].tobytes()
    assert _scene(4, index=5)["image"].tobytes() != a["image"].tobytes()


def test_train_and_test_streams_share_no_scene():
    def hashes(split):
        images = registry.get("tetrominoes").generate_scenes(0, split, range(2000))["image"]
        return {hashlib.sha1(image.tobytes()).hexdigest() for image in images}

    train, test = hashes("train"), hashes("test")
    assert len(train) == 2000 and len(test) == 2000
    assert not train & test
