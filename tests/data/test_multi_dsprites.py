"""Tests for keras_slots.data.multi_dsprites: the Multi-dSprites scene generator."""

import numpy as np
import pytest
from matplotlib.path import Path

from keras_slots.data import multi_dsprites as md

KEYS = {"image", "mask", "x", "y", "scale", "orientation", "shape", "color", "visibility"}
NUM_SCENES = 40


def _scenes(variant, n=NUM_SCENES):
    return [md.generate_scene(np.random.default_rng([0, 0, i]), variant) for i in range(n)]


@pytest.fixture(scope="module", params=md.VARIANTS)
def variant_scenes(request):
    return request.param, _scenes(request.param)


def test_published_keys_shapes_and_dtypes(variant_scenes):
    variant, scenes = variant_scenes
    k = md.MAX_NUM_ENTITIES[variant]
    channels = 1 if variant == "binarized" else 3
    for scene in scenes:
        assert set(scene) == KEYS
        assert scene["image"].shape == (64, 64, 3) and scene["image"].dtype == np.uint8
        assert scene["mask"].shape == (k, 64, 64, 1) and scene["mask"].dtype == np.uint8
        assert scene["color"].shape == (k, channels)
        for key in KEYS - {"image", "mask", "color"}:
            assert scene[key].shape == (k,) and scene[key].dtype == np.float32, key
        assert scene["color"].dtype == np.float32


def test_max_num_entities_match_the_published_reader():
    assert md.MAX_NUM_ENTITIES == {"binarized": 4, "colored_on_grayscale": 6,
                                   "colored_on_colored": 5}


def test_masks_partition_the_image(variant_scenes):
    _, scenes = variant_scenes
    for scene in scenes:
        mask = scene["mask"]
        assert set(np.unique(mask)) <= {0, 255}
        np.testing.assert_array_equal(mask.astype(int).sum(axis=0), 255)


def test_sprite_counts_per_variant(variant_scenes):
    variant, scenes = variant_scenes
    low, high = {"binarized": (2, 3), "colored_on_grayscale": (2, 5),
                 "colored_on_colored": (1, 4)}[variant]
    counts = []
    for scene in scenes:
        present = scene["mask"][1:].any(axis=(1, 2, 3))  # [K-1]
        n = int(present.sum())
        counts.append(n)
        # Sprites fill the first entities; visibility marks background + sprites.
        np.testing.assert_array_equal(present, np.arange(1, len(present) + 1) <= n)
        np.testing.assert_array_equal(scene["visibility"],
                                      (np.arange(len(present) + 1) <= n).astype(np.float32))
    assert set(counts) == set(range(low, high + 1))


def test_attribute_ranges(variant_scenes):
    _, scenes = variant_scenes
    for scene in scenes:
        live = scene["visibility"] == 1
        live[0] = False
        for key in ("x", "y"):
            assert np.all((scene[key][live] >= 0) & (scene[key][live] <= 1)), key
        assert np.all((scene["scale"][live] >= 0.5) & (scene["scale"][live] <= 1))
        assert np.all((scene["orientation"][live] >= 0)
                      & (scene["orientation"][live] < 2 * np.pi))
        assert set(scene["shape"][live]) <= {1.0, 2.0, 3.0}
        assert np.all((scene["color"] >= 0) & (scene["color"] <= 1))
        for key in ("x", "y", "scale", "orientation", "shape"):
            assert np.all(scene[key][~live] == 0), key  # Background and padding.
        assert np.all(scene["color"][scene["visibility"] == 0] == 0)


def test_no_sprite_is_hidden(variant_scenes):
    _, scenes = variant_scenes
    for scene in scenes:
        pixels = (scene["mask"][..., 0] > 0).sum(axis=(1, 2))  # [K]
        live = scene["visibility"] == 1
        assert np.all(pixels[1:][live[1:]] >= md.MIN_VISIBLE_PIXELS)
        assert np.all(pixels[~live] == 0)


def test_masks_are_visible_parts_of_the_painted_sprites(variant_scenes):
    """Re-paints each scene from its published attributes: later sprites cover earlier."""
    _, scenes = variant_scenes
    for scene in scenes:
        n = int(scene["visibility"].sum()) - 1
        coverage = md.sprite_coverage(
            scene["shape"][1:n + 1].astype(int), scene["x"][1:n + 1], scene["y"][1:n + 1],
            scene["scale"][1:n + 1], scene["orientation"][1:n + 1])  # [n, H, W]
        for i in range(n):
            visible = coverage[i] & ~coverage[i + 1:].any(axis=0)  # [H, W]
            np.testing.assert_array_equal(scene["mask"][i + 1, :, :, 0] > 0, visible)


def test_image_colours_follow_masks(variant_scenes):
    variant, scenes = variant_scenes
    for scene in scenes:
        labels = np.argmax(scene["mask"][..., 0], axis=0)  # [H, W]
        color = scene["color"]
        if variant == "binarized":
            np.testing.assert_array_equal(color[1:][scene["visibility"][1:] == 1], 1.0)
            assert color[0, 0] == 0.0
            expected = np.where(labels > 0, 255, 0)[..., None].repeat(3, -1)  # [H, W, 3]
        else:
            expected = np.round(color[labels] * 255)  # [H, W, 3]
        np.testing.assert_allclose(scene["image"], expected, atol=0.5)
        if variant == "colored_on_grayscale":
            assert color[0, 0] == color[0, 1] == color[0, 2]


def test_binarized_is_exactly_white_on_black():
    for scene in _scenes("binarized", 10):
        assert set(np.unique(scene["image"])) == {0, 255}
        white = np.all(scene["image"] == 255, axis=-1)  # [H, W]
        np.testing.assert_array_equal(white, scene["mask"][0, :, :, 0] == 0)


def test_square_and_ellipse_match_an_independent_polygon_test():
    rng = np.random.default_rng(3)
    rows, cols = np.meshgrid(np.arange(64) + 0.5, np.arange(64) + 0.5, indexing="ij")
    points = np.stack([cols.ravel(), rows.ravel()], axis=1)  # [P, 2] (x, y) pixel centres
    for _ in range(10):
        x, y, scale, theta = rng.uniform(), rng.uniform(), rng.uniform(0.5, 1), rng.uniform(
            0, 2 * np.pi)
        cx, cy = 8 + 48 * x, 8 + 48 * y
        size = md.BASE_SIZE * scale
        rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * size / 2
        phi = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
        a, b = md._ELLIPSE_SEMI_AXES
        ring = np.stack([a * size * np.cos(phi), b * size * np.sin(phi)], axis=1)
        for shape_id, outline in ((1, corners), (2, ring)):
            polygon = Path(outline @ rot.T + [cx, cy])
            expected = polygon.contains_points(points).reshape(64, 64)
            got = md.sprite_coverage(np.array([shape_id]), np.array([x]), np.array([y]),
                                     np.array([scale]), np.array([theta]))[0]
            # Pixel centres exactly on the outline may fall either way.
            assert np.sum(expected != got) <= 2, (shape_id, np.sum(expected != got))
            assert got.sum() > 0


def test_shape_sizes_and_heart_symmetry():
    centre, one = np.array([0.5]), np.array([1.0])
    square = md.sprite_coverage(np.array([1]), centre, centre, one, np.array([0.0]))[0]
    assert square.sum() == 400  # 20 x 20 px, aligned with the pixel grid.
    heart = md.sprite_coverage(np.array([3]), centre, centre, one, np.array([0.0]))[0]
    np.testing.assert_array_equal(heart, heart[:, ::-1])  # Mirror-symmetric about x = 32.
    rows = np.flatnonzero(heart.any(axis=1))
    top_row, bottom_row = heart[rows[0]], heart[rows[-1]]
    # Two lobes at the top (two separate runs), a single point at the bottom.
    assert np.count_nonzero(np.diff(top_row.astype(int)) == 1) == 2
    assert bottom_row.sum() <= 4
    flipped = md.sprite_coverage(np.array([3]), centre, centre, one, np.array([np.pi]))[0]
    np.testing.assert_array_equal(flipped, heart[::-1])


def test_unknown_variant_raises():
    with pytest.raises(ValueError, match="unknown Multi-dSprites variant"):
        md.generate_scene(np.random.default_rng(0), "rainbow")
