"""Tests for keras_slots.data.objects_room: the Objects Room scene generator."""

import numpy as np
import pytest

from keras_slots.data import objects_room as orm

NUM_SCENES = 30
OBJECT_COUNTS = {"train": (1, 3), "six_objects": (6, 6), "empty_room": (0, 0),
                 "identical_color": (4, 6)}


def _scenes(variant, n=NUM_SCENES):
    return [orm.generate_scene(np.random.default_rng([0, 0, i]), variant) for i in range(n)]


@pytest.fixture(scope="module", params=orm.VARIANTS)
def variant_scenes(request):
    return request.param, _scenes(request.param)


def _chromaticity(pixels):
    """RGB [N, 3] uint8 -> colour direction [N, 3] (shading only scales RGB)."""
    pixels = pixels.astype(np.float64)
    return pixels / np.maximum(pixels.max(axis=1, keepdims=True), 1)


def test_published_keys_and_shapes(variant_scenes):
    variant, scenes = variant_scenes
    k = {"train": 7, "six_objects": 10, "empty_room": 4, "identical_color": 10}[variant]
    assert orm.MAX_NUM_ENTITIES[variant] == k
    for scene in scenes:
        assert set(scene) == {"image", "mask"}
        assert scene["image"].shape == (64, 64, 3) and scene["image"].dtype == np.uint8
        assert scene["mask"].shape == (k, 64, 64, 1) and scene["mask"].dtype == np.uint8


def test_masks_partition_the_image(variant_scenes):
    _, scenes = variant_scenes
    for scene in scenes:
        assert set(np.unique(scene["mask"])) <= {0, 255}
        np.testing.assert_array_equal(scene["mask"].astype(int).sum(axis=0), 255)


def test_object_counts_and_visibility(variant_scenes):
    variant, scenes = variant_scenes
    low, high = OBJECT_COUNTS[variant]
    counts = []
    for scene in scenes:
        pixels = (scene["mask"][..., 0] > 0).sum(axis=(1, 2))  # [K]
        objects = pixels[orm.NUM_BACKGROUND_ENTITIES:]
        n = int((objects > 0).sum())
        counts.append(n)
        assert np.all(objects[:n] >= orm.MIN_VISIBLE_PIXELS)  # None (nearly) hidden.
        assert np.all(objects[n:] == 0)  # Objects fill the first entities.
        assert pixels[orm.FLOOR] > 0 and pixels[orm.WALL_A] + pixels[orm.WALL_B] > 0
    assert set(counts) == set(range(low, high + 1))


def test_room_layout_sky_above_wall_above_floor():
    """In an empty room every column reads sky, then wall, then floor, top to bottom."""
    rank = {orm.SKY: 0, orm.WALL_A: 1, orm.WALL_B: 1, orm.FLOOR: 2}
    for scene in _scenes("empty_room", 20):
        labels = np.argmax(scene["mask"][..., 0], axis=0)  # [H, W]
        ranks = np.vectorize(rank.get)(labels)  # [H, W]
        assert np.all(np.diff(ranks, axis=0) >= 0)
        assert np.all(ranks[-1] == 2)  # The bottom row sees the floor.


def test_each_entity_has_one_colour_under_shading(variant_scenes):
    _, scenes = variant_scenes
    for scene in scenes:
        labels = np.argmax(scene["mask"][..., 0], axis=0)  # [H, W]
        for entity in np.unique(labels):
            chroma = _chromaticity(scene["image"][labels == entity])  # [N, 3]
            assert np.ptp(chroma, axis=0).max() < 0.08, entity


def test_objects_are_shaded(variant_scenes):
    variant, scenes = variant_scenes
    if variant == "empty_room":
        pytest.skip("no objects")
    shaded = []
    for scene in scenes:
        labels = np.argmax(scene["mask"][..., 0], axis=0)  # [H, W]
        for entity in range(orm.NUM_BACKGROUND_ENTITIES, labels.max() + 1):
            brightness = scene["image"][labels == entity].max(axis=1)  # [N]
            shaded.append(np.ptp(brightness) > 10)
    assert np.mean(shaded) > 0.5  # Most objects show more than one shade.


def test_identical_color_objects_share_a_colour_and_others_do_not():
    def object_colours(scene):
        labels = np.argmax(scene["mask"][..., 0], axis=0)  # [H, W]
        return np.array([np.median(_chromaticity(scene["image"][labels == e]), axis=0)
                         for e in range(orm.NUM_BACKGROUND_ENTITIES, labels.max() + 1)])

    for scene in _scenes("identical_color", 15):
        assert np.ptp(object_colours(scene), axis=0).max() < 0.05
    spreads = [np.ptp(object_colours(s), axis=0).max() for s in _scenes("six_objects", 15)]
    assert min(spreads) > 0.05


def test_cube_and_cylinder_hits_lie_on_the_surface():
    """Checks the analytic ray hits against points sampled densely along each ray."""
    rng = np.random.default_rng(5)
    origin = np.array([0.0, 1.2, -3.0])
    rays = rng.normal(size=(400, 3)) * [0.3, 0.3, 0.3] + [0.0, -0.25, 1.0]  # [R, 3]
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    steps = np.linspace(0.0, 8.0, 8001)  # [S]
    points = origin + steps[None, :, None] * rays[:, None, :]  # [R, S, 3]
    half, yaw = 0.6, 0.4
    center = np.array([0.2, half, 0.5])
    c, s = np.cos(-yaw), np.sin(-yaw)
    rel = points - center  # [R, S, 3]
    local = np.stack([c * rel[..., 0] + s * rel[..., 2], rel[..., 1],
                      -s * rel[..., 0] + c * rel[..., 2]], axis=-1)
    inside_cube = np.all(np.abs(local) <= half, axis=-1)  # [R, S]
    radius, height = 0.5, 1.0
    cyl_center = np.array([-0.3, 0.0, 0.8])
    rel = points - cyl_center  # [R, S, 3]
    inside_cyl = ((rel[..., 0] ** 2 + rel[..., 2] ** 2 <= radius**2)
                  & (rel[..., 1] >= 0) & (rel[..., 1] <= height))  # [R, S]
    for (t, normals), inside in (
            (orm._cube(origin, rays, center, half, yaw), inside_cube),
            (orm._cylinder(origin, rays, cyl_center, radius, height), inside_cyl)):
        first = np.where(inside.any(axis=1), steps[np.argmax(inside, axis=1)], np.inf)
        hit = np.isfinite(t)
        assert hit.sum() > 50 and (~hit).sum() > 50
        # Dense sampling finds the same hits (to within one step, bar grazing rays).
        agree = np.isfinite(first) == hit
        assert agree.mean() > 0.98
        both = hit & np.isfinite(first)
        assert np.all(np.abs(t[both] - first[both]) <= 2e-3)
        np.testing.assert_allclose(np.linalg.norm(normals[hit], axis=1), 1.0, atol=1e-6)
        assert np.all(np.sum(normals[hit] * rays[hit], axis=1) < 0)  # Facing the camera.


def test_unknown_variant_raises():
    with pytest.raises(ValueError, match="unknown Objects Room variant"):
        orm.generate_scene(np.random.default_rng(0), "attic")



def test_num_objects_excludes_the_four_background_parts():
    from keras_slots.data import get_dataset

    empty = next(iter(get_dataset("objects_room_empty_room", "test", num_examples=1)))
    six = next(iter(get_dataset("objects_room_six_objects", "test", num_examples=1)))
    assert int(empty["num_objects"]) == 0 and int(six["num_objects"]) == 6
