"""Tests for the built-in CLEVR renderer (keras_slots.data.clevr, clevr_camera)."""

import math

import numpy as np
import pytest

from keras_slots.data import clevr
from keras_slots.data import clevr_camera as camera

K = 11
SEEDS = [[7, 0, i] for i in range(5)]


@pytest.fixture(scope="module")
def scenes():
    return [clevr.generate_scene(np.random.default_rng(seed)) for seed in SEEDS]


def _pinhole(point):
    """Independent projection: camera axes from yaw / pitch angles towards the origin."""
    cx, cy, cz = 7.48, -6.51, 5.34
    yaw = math.atan2(-cy, -cx)
    pitch = math.atan2(-cz, math.hypot(cx, cy))
    forward = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw),
                        math.sin(pitch)])
    right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
    up = np.array([-math.sin(pitch) * math.cos(yaw), -math.sin(pitch) * math.sin(yaw),
                   math.cos(pitch)])
    rel = np.asarray(point, float) - np.array([cx, cy, cz])
    focal = 35.0 / 32.0 * 320.0
    depth = rel @ forward
    return np.array([160.0 + focal * (rel @ right) / depth,
                     120.0 - focal * (rel @ up) / depth, depth])


def test_camera_projects_look_at_target_to_image_centre():
    px, py, depth = camera.project(np.zeros((1, 3)))[0]
    assert (px, py) == pytest.approx((160.0, 120.0), abs=1e-9)
    assert depth == pytest.approx(math.sqrt(7.48 ** 2 + 6.51 ** 2 + 5.34 ** 2))


@pytest.mark.parametrize("point", [(1.0, 2.0, 0.5), (-3.0, 3.0, 0.0), (3.0, -3.0, 1.4),
                                   (-2.5, -1.0, 0.35)])
def test_camera_matches_independent_pinhole(point):
    np.testing.assert_allclose(camera.project(np.array([point]))[0], _pinhole(point),
                               atol=1e-9)


def test_camera_point_one_unit_right_of_axis_lands_350_over_depth_pixels_right():
    # A point at depth 10 on the camera axis, moved 1 unit along the camera's right
    # vector (horizontal, perpendicular to the view): 350 * 1 / 10 = 35 px right of centre.
    forward = -camera.CAMERA_POSITION / np.linalg.norm(camera.CAMERA_POSITION)
    right = np.array([forward[1], -forward[0], 0.0]) / np.linalg.norm(forward[:2])
    point = camera.CAMERA_POSITION + 10 * forward + right
    np.testing.assert_allclose(camera.project(point[None])[0], [195.0, 120.0, 10.0],
                               atol=1e-9)


def test_ray_directions_invert_projection():
    px = np.array([0.5, 160.0, 319.5, 37.25], np.float32)
    py = np.array([0.5, 120.0, 239.5, 201.75], np.float32)
    dirs = camera.ray_directions(px, py)  # [4, 3]
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=-1), 1.0, atol=1e-6)
    back = camera.project(camera.CAMERA_POSITION + 5.0 * dirs)
    np.testing.assert_allclose(back[:, 0], px, atol=1e-3)
    np.testing.assert_allclose(back[:, 1], py, atol=1e-3)


def test_published_feature_shapes_and_dtypes(scenes):
    expected = {"image": ((240, 320, 3), np.uint8), "mask": ((K, 240, 320, 1), np.uint8),
                "x": ((K,), np.float32), "y": ((K,), np.float32), "z": ((K,), np.float32),
                "pixel_coords": ((K, 3), np.float32), "rotation": ((K,), np.float32),
                "size": ((K,), np.uint8), "material": ((K,), np.uint8),
                "shape": ((K,), np.uint8), "color": ((K,), np.uint8),
                "visibility": ((K,), np.float32)}
    for scene in scenes:
        assert set(scene) == set(expected)
        for key, (shape, dtype) in expected.items():
            assert scene[key].shape == shape, key
            assert scene[key].dtype == dtype, key


def test_masks_partition_the_image(scenes):
    for scene in scenes:
        assert set(np.unique(scene["mask"])) <= {0, 255}
        coverage = (scene["mask"] // 255).sum(axis=0)  # [H, W, 1]
        np.testing.assert_array_equal(coverage, 1)


def test_object_count_visibility_and_background(scenes):
    counts = []
    for scene in scenes:
        n = int((scene["shape"] > 0).sum())
        counts.append(n)
        assert 3 <= n <= 10
        np.testing.assert_array_equal(scene["shape"][1:n + 1] > 0, True)  # objects first
        np.testing.assert_array_equal(scene["visibility"], [1.0] * (n + 1) + [0.0] * (K - n - 1))
        assert not scene["mask"][n + 1:].any()
        for key in ("x", "y", "z", "rotation", "size", "material", "shape", "color"):
            assert scene[key][0] == 0, key
            assert not scene[key][n + 1:].any(), key
        assert not scene["pixel_coords"][0].any()
    assert len(set(counts)) > 1


def test_attribute_ranges(scenes):
    for scene in scenes:
        n = int((scene["shape"] > 0).sum())
        obj = slice(1, n + 1)
        assert np.all(np.abs(scene["x"][obj]) <= 3.0) and np.all(np.abs(scene["y"][obj]) <= 3.0)
        assert np.all((scene["rotation"][obj] >= 0) & (scene["rotation"][obj] < 360))
        for key, table in (("shape", clevr.SHAPES), ("color", clevr.COLORS),
                           ("material", clevr.MATERIALS), ("size", clevr.SIZES)):
            assert np.all((scene[key][obj] >= 1) & (scene[key][obj] <= len(table))), key
        for obj_attrs, z in zip(clevr.attribute_names(scene), scene["z"][obj]):
            r = {"large": 0.7, "small": 0.35}[obj_attrs["size"]]
            half = r / math.sqrt(2) if obj_attrs["shape"] == "cube" else r
            assert z == pytest.approx(half, abs=1e-6)  # resting on the ground


def test_placement_rules(scenes):
    behind = -camera.CAMERA_POSITION[:2] / np.linalg.norm(camera.CAMERA_POSITION[:2])
    left = np.array([-behind[1], behind[0]])  # behind turned 90 degrees counter-clockwise
    for scene in scenes:
        n = int((scene["shape"] > 0).sum())
        xy = np.stack([scene["x"][1:n + 1], scene["y"][1:n + 1]], axis=1).astype(float)
        r = np.where(scene["size"][1:n + 1] == 1, 0.7, 0.35)
        for i in range(n):
            for j in range(i):
                delta = xy[i] - xy[j]
                assert np.linalg.norm(delta) - r[i] - r[j] >= 0.25 - 1e-5
                assert abs(delta @ left) >= 0.4 - 1e-5
                assert abs(delta @ behind) >= 0.4 - 1e-5


def test_every_object_has_minimum_visible_pixels(scenes):
    for scene in scenes:
        n = int((scene["shape"] > 0).sum())
        pixels = (scene["mask"][1:n + 1] > 0).sum(axis=(1, 2, 3))
        assert pixels.min() >= clevr.MIN_PIXELS_PER_OBJECT


def test_pixel_coords_are_projected_centres(scenes):
    for scene in scenes:
        n = int((scene["shape"] > 0).sum())
        for i in range(1, n + 1):
            centre = (scene["x"][i], scene["y"][i], scene["z"][i])
            np.testing.assert_allclose(scene["pixel_coords"][i], _pinhole(centre), atol=1e-3)


def test_same_seed_same_bytes_and_different_seed_differs(scenes):
    again = clevr.generate_scene(np.random.default_rng(SEEDS[0]))
    for key, value in scenes[0].items():
        assert again[key].tobytes() == value.tobytes(), key
    assert scenes[0]["image"].tobytes() != scenes[1]["image"].tobytes()


def test_image_looks_lit_and_coloured(scenes):
    for scene in scenes:
        ground = scene["image"][scene["mask"][0, ..., 0] > 0].astype(int)  # [P, 3]
        assert np.mean(np.ptp(ground, axis=1) <= 1) > 0.95  # grey floor (edges blend)
        assert 60 < np.median(ground) < 200
        for i in range(1, int((scene["shape"] > 0).sum()) + 1):
            pixels = scene["image"][scene["mask"][i, ..., 0] > 0].astype(float)
            assert pixels.std(axis=0).max() > 2.0  # shaded, not flat


def _march(inside, o, d, t_max=30.0, step=1e-3):
    """First t on the ray where inside(point) holds, by brute-force marching."""
    ts = np.arange(0.0, t_max, step)
    points = o + ts[:, None] * d  # [T, 3]
    hits = np.nonzero(inside(points))[0]
    return ts[hits[0]] if hits.size else np.inf


@pytest.mark.parametrize("shape", ["sphere", "cube", "cylinder"])
def test_ray_shape_intersections_match_brute_force(shape):
    layout = {"shape": np.array([clevr.SHAPES.index(shape)]), "size": np.array([0]),
              "color": np.array([0]), "material": np.array([0]),
              "xy": np.array([[0.4, -0.3]]), "rotation": np.array([33.0])}
    solids = clevr._solids(layout)
    centre = solids["centre"][0].astype(float)
    r, half = float(solids["radius"][0]), float(solids["half"][0])
    angle = math.radians(33.0)

    def inside(p):
        rel = p - centre
        if shape == "sphere":
            return (rel ** 2).sum(-1) <= r * r
        if shape == "cylinder":
            return (rel[:, 0] ** 2 + rel[:, 1] ** 2 <= r * r) & (np.abs(rel[:, 2]) <= half)
        lx = math.cos(angle) * rel[:, 0] + math.sin(angle) * rel[:, 1]
        ly = -math.sin(angle) * rel[:, 0] + math.cos(angle) * rel[:, 1]
        return (np.abs(lx) <= half) & (np.abs(ly) <= half) & (np.abs(rel[:, 2]) <= half)

    rng = np.random.default_rng(3)
    origins = camera.CAMERA_POSITION + rng.normal(0, 0.3, size=(40, 3))
    targets = centre + rng.uniform(-1.0, 1.0, size=(40, 3))
    dirs = (targets - origins) / np.linalg.norm(targets - origins, axis=-1, keepdims=True)
    t, normal = clevr._hit(solids, 0, origins.astype(np.float32), dirs.astype(np.float32))
    hits = 0
    for i in range(40):
        expected = _march(inside, origins[i], dirs[i])
        if np.isinf(expected):
            assert np.isinf(t[i])
            continue
        hits += 1
        assert t[i] == pytest.approx(expected, abs=2e-3)
        assert np.linalg.norm(normal[i]) == pytest.approx(1.0, abs=1e-4)
        assert normal[i] @ dirs[i] < 0  # facing the incoming ray
    assert hits >= 10


def test_ground_point_behind_object_is_in_key_light_shadow():
    layout = {"shape": np.array([1]), "size": np.array([0]), "color": np.array([1]),
              "material": np.array([0]), "xy": np.array([[0.0, 0.0]]),
              "rotation": np.array([0.0])}
    solids = clevr._solids(layout)
    light = clevr._KEY_POSITION.astype(float)
    centre = solids["centre"][0].astype(float)
    s = light[2] / (light[2] - centre[2])  # where the light->centre line meets z = 0
    shaded = light + s * (centre - light)
    lit = np.array([2.5, -2.5, 0.0])  # on the light's side of the sphere
    points = np.stack([shaded, lit]).astype(np.float32)
    up = np.tile(np.float32([0, 0, 1]), (2, 1))
    np.testing.assert_array_equal(clevr._in_shadow(points, up, solids), [True, False])


def test_bad_object_count_raises():
    with pytest.raises(ValueError, match="min_objects"):
        clevr.generate_scene(np.random.default_rng(0), min_objects=4, max_objects=11)
