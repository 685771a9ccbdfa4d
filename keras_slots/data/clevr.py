"""Built-in CLEVR generator: a numpy ray caster writing clevr_with_masks scenes.

Scenes follow CLEVR's recipe (Johnson et al. 2017) and come out in the layout of
DeepMind's `clevr_with_masks` records after `tf.io.decode_raw`: "image" uint8
[240, 320, 3], "mask" uint8 [11, 240, 320, 1] (0 / 255, entity 0 = background),
float32 "x", "y", "z", "rotation", "visibility" [11], "pixel_coords" [11, 3], and
"shape", "color", "material", "size" as uint8 [11] codes: the published file stores
each as a one-byte string that decode_raw turns into one uint8. Code 0 = no object;
code i >= 1 names entry i - 1 of SHAPES, COLORS, MATERIALS, SIZES (CLEVR's
properties.json order; the published code tables are not documented, so treat
this numbering as ours).

Scene rules (CLEVR's `render_images.py` defaults): 3-10 objects; x, y uniform in
[-3, 3]; rotation uniform in [0, 360) degrees; a size "radius" r of 0.7 (large) or
0.35 (small); a cube has half-side r / sqrt(2) (so its half-diagonal is r), spheres
and cylinders have radius r and half-height r; every object rests on the ground,
so z is its half-height. Between any two objects dist - r1 - r2 >= 0.25 and their
offsets along the camera's ground-projected left and behind axes are at least 0.4;
an object that fails 50 placements, or a scene in which an object covers fewer than
200 pixels, is resampled from scratch.

Rendering: the camera of `clevr_camera`; an infinite grey ground plane; a key
point light that casts hard shadows (shadow rays against the analytic shapes),
directional fill and back lights, and an ambient term. Rubber is Lambertian;
metal adds Blinn-Phong highlights and a tinted mirror reflection of the ground and
a grey sky (other objects are not reflected). Rays are cast for all pixels at once:
each object is intersected only by the rays inside its projected bounding
rectangle (sphere analytic, cube by the slab test in its rotated frame, capped
vertical cylinder), and the nearest hit wins. Masks come from the ray through
each pixel centre; the image re-renders pixels on object, shadow and face edges
with 2 x 2 supersampling.

Speed (this 2-core CPU, one process): about 50 scenes/s for 3-10 objects, i.e. the
70k-scene training set in about 25 minutes per core (see `python -m
keras_slots.data.clevr`).
"""

import time

import numpy as np

from keras_slots.data import clevr_camera as camera

NAME = "clevr_with_masks"
IMAGE_SIZE = (camera.IMAGE_HEIGHT, camera.IMAGE_WIDTH)
MAX_NUM_ENTITIES = 11

SHAPES = ("cube", "sphere", "cylinder")
COLORS = ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow")
MATERIALS = ("rubber", "metal")
SIZES = ("large", "small")
COLOR_RGB = np.array(
    [[87, 87, 87], [173, 35, 35], [42, 75, 215], [29, 105, 20],
     [129, 74, 25], [129, 38, 192], [41, 208, 208], [255, 238, 51]],
    np.float32) / 255.0  # [8, 3]
SIZE_RADIUS = (0.7, 0.35)

MIN_OBJECTS, MAX_OBJECTS = 3, 10
COORD_RANGE = 3.0
MIN_DISTANCE = 0.25
MARGIN = 0.4
MIN_PIXELS_PER_OBJECT = 200
MAX_RETRIES = 50

_CUBE, _SPHERE, _CYLINDER = 0, 1, 2
_METAL = 1
_EPS = 1e-3

# Lighting (intensities in [0, 1] of the base colour; positions chosen to
# resemble CLEVR's base scene: key light front-right, fill left, back light behind).
_KEY_POSITION = np.array([6.4, -2.9, 6.2], np.float32)
_KEY_INTENSITY = 0.75
_FILL_DIRECTION = np.array([-4.7, -2.9, 3.4], np.float32)
_FILL_INTENSITY = 0.22
_BACK_DIRECTION = np.array([-1.2, 2.6, 5.8], np.float32)
_BACK_INTENSITY = 0.18
_AMBIENT = 0.22
_GROUND_ALBEDO = 0.6
_SKY = 0.85
_HORIZON = 0.3


class PlacementError(ValueError):
    """Raised when a scene cannot be built from the requested options."""


# ----------------------------------------------------------------------------
# Scene sampling
# ----------------------------------------------------------------------------

def _sample_layout(rng, num_objects):
    """Samples attributes and positions under CLEVR's rules; None if it fails.

    Args:
        rng: np.random.Generator.
        num_objects: number of objects to place.

    Returns:
        dict of per-object arrays ("shape", "color", "material", "size" int [n],
        "xy" float64 [n, 2], "rotation" degrees [n]), or None when an object found
        no valid position in MAX_RETRIES tries.
    """
    dirs = camera.ground_directions()
    axes = np.stack([dirs["left"], dirs["behind"]], axis=1)  # [2, 2]
    size = rng.integers(len(SIZES), size=num_objects)  # [n]
    radius = np.array(SIZE_RADIUS)[size]  # [n]
    xy = np.zeros((num_objects, 2))
    for i in range(num_objects):
        for _ in range(MAX_RETRIES):
            xy[i] = rng.uniform(-COORD_RANGE, COORD_RANGE, size=2)
            delta = xy[i] - xy[:i]  # [i, 2]
            gap = np.sqrt((delta ** 2).sum(axis=1)) - radius[i] - radius[:i]  # [i]
            along = np.abs(delta @ axes)  # [i, 2]: offsets along left and behind
            if np.all(gap >= MIN_DISTANCE) and np.all(along >= MARGIN):
                break
        else:
            return None
    return {"size": size, "xy": xy,
            "shape": rng.integers(len(SHAPES), size=num_objects),
            "color": rng.integers(len(COLORS), size=num_objects),
            "material": rng.integers(len(MATERIALS), size=num_objects),
            "rotation": rng.uniform(0.0, 360.0, size=num_objects)}


def _solids(layout):
    """Geometry of the sampled objects.

    Args:
        layout: output of _sample_layout.

    Returns:
        dict with "centre" float32 [n, 3], "radius" (horizontal half-extent) [n],
        "half" (half-height, = cube half-side) [n], "shape" int [n], "cos"/"sin" of
        the rotation [n], "bound" (bounding-sphere radius) [n].
    """
    radius = np.array(SIZE_RADIUS, np.float32)[layout["size"]]  # [n]
    is_cube = layout["shape"] == _CUBE
    half = np.where(is_cube, radius / np.sqrt(2.0), radius).astype(np.float32)
    centre = np.concatenate([layout["xy"], half[:, None]], axis=1).astype(np.float32)
    angle = np.deg2rad(layout["rotation"])
    bound = np.where(is_cube, half * np.sqrt(3.0),
                     np.where(layout["shape"] == _SPHERE, radius, radius * np.sqrt(2.0)))
    return {"centre": centre, "radius": radius, "half": half, "shape": layout["shape"],
            "cos": np.cos(angle).astype(np.float32), "sin": np.sin(angle).astype(np.float32),
            "bound": bound.astype(np.float32)}


# ----------------------------------------------------------------------------
# Ray / shape intersection (rays: origins [M, 3] or [1, 3], unit dirs [M, 3])
# ----------------------------------------------------------------------------

def _hit_sphere(o, d, centre, r):
    oc = o - centre  # [M, 3]
    b = (oc * d).sum(axis=-1)  # [M]
    q = (oc * oc).sum(axis=-1)  # [M] or [1]
    disc = b * b - (q - r * r)  # [M]
    root = np.sqrt(np.maximum(disc, 0.0))
    t_near, t_far = -b - root, -b + root  # [M]
    t = np.where(t_near > _EPS, t_near, np.where(t_far > _EPS, t_far, np.inf))
    t = np.where(disc > 0.0, t, np.inf)  # [M]
    normal = (o + t[:, None] * d - centre) / r  # [M, 3]
    return t, normal


def _hit_box(o, d, centre, half, cos, sin):
    rel = o - centre  # [M, 3]
    lo = np.stack([cos * rel[:, 0] + sin * rel[:, 1],
                   -sin * rel[:, 0] + cos * rel[:, 1], rel[:, 2]], axis=-1)  # [M, 3]
    ld = np.stack([cos * d[:, 0] + sin * d[:, 1],
                   -sin * d[:, 0] + cos * d[:, 1], d[:, 2]], axis=-1)  # [M, 3]
    ld = np.where(np.abs(ld) < 1e-9, 1e-9, ld)
    t1, t2 = (-half - lo) / ld, (half - lo) / ld  # [M, 3]
    t_in, t_out = np.minimum(t1, t2), np.maximum(t1, t2)  # [M, 3]
    t_near, t_far = t_in.max(axis=-1), t_out.min(axis=-1)  # [M]
    t = np.where(t_near > _EPS, t_near, np.where(t_far > _EPS, t_far, np.inf))
    t = np.where(t_far >= t_near, t, np.inf)  # [M]
    axis = t_in.argmax(axis=-1)  # [M]
    local = np.zeros_like(ld)  # [M, 3]
    rows = np.arange(len(axis))
    local[rows, axis] = -np.sign(ld[rows, axis])
    normal = np.stack([cos * local[:, 0] - sin * local[:, 1],
                       sin * local[:, 0] + cos * local[:, 1], local[:, 2]], axis=-1)
    return t, normal


def _hit_cylinder(o, d, centre, r, half):
    rel = o - centre  # [M, 3] or [1, 3]
    ox, oy, oz = rel[:, 0], rel[:, 1], rel[:, 2]
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    a = np.maximum(dx * dx + dy * dy, 1e-12)  # [M]
    b = ox * dx + oy * dy
    disc = b * b - a * (ox * ox + oy * oy - r * r)  # [M]
    root = np.sqrt(np.maximum(disc, 0.0))
    t_side = np.full_like(a, np.inf)
    for cand in ((-b - root) / a, (-b + root) / a):  # nearer root first
        z = oz + cand * dz
        ok = (disc > 0.0) & (cand > _EPS) & (np.abs(z) <= half) & np.isinf(t_side)
        t_side = np.where(ok, cand, t_side)
    safe_dz = np.where(np.abs(dz) < 1e-9, 1e-9, dz)
    t_cap = np.full_like(a, np.inf)
    for level in (half, -half):
        cand = (level - oz) / safe_dz  # [M]
        x, y = ox + cand * dx, oy + cand * dy
        ok = (cand > _EPS) & (x * x + y * y <= r * r)
        t_cap = np.where(ok & (cand < t_cap), cand, t_cap)
    t = np.minimum(t_side, t_cap)  # [M]
    p = rel + t[:, None] * d  # [M, 3] relative to the centre
    on_cap = t_cap < t_side
    normal = np.stack([np.where(on_cap, 0.0, p[:, 0] / r),
                       np.where(on_cap, 0.0, p[:, 1] / r),
                       np.where(on_cap, np.sign(p[:, 2]), 0.0)], axis=-1)  # [M, 3]
    return t, normal.astype(np.float32)


def _hit(solids, k, o, d):
    """Distance [M] (inf = miss) and unit normal [M, 3] of rays against object k."""
    centre, shape = solids["centre"][k], solids["shape"][k]
    if shape == _SPHERE:
        return _hit_sphere(o, d, centre, solids["radius"][k])
    if shape == _CUBE:
        return _hit_box(o, d, centre, solids["half"][k], solids["cos"][k], solids["sin"][k])
    return _hit_cylinder(o, d, centre, solids["radius"][k], solids["half"][k])


# ----------------------------------------------------------------------------
# Primary rays, shadows, shading
# ----------------------------------------------------------------------------

def _screen_boxes(solids):
    """Pixel rectangles [n, 4] (x0, x1, y0, y1) that contain each object."""
    n = len(solids["shape"])
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (0, 2)],
                     np.float32)  # [8, 3]
    ext = np.stack([solids["radius"], solids["radius"], solids["half"]], axis=-1)  # [n, 3]
    base = solids["centre"] * np.array([1, 1, 0], np.float32)  # [n, 3]
    corners = base[:, None] + signs[None] * ext[:, None]  # [n, 8, 3]
    proj = camera.project(corners.reshape(-1, 3)).reshape(n, 8, 3)
    return np.stack([proj[..., 0].min(1) - 1, proj[..., 0].max(1) + 1,
                     proj[..., 1].min(1) - 1, proj[..., 1].max(1) + 1], axis=-1)


def _cast(px, py, solids, boxes):
    """Casts camera rays through pixel positions sorted by row.

    Args:
        px, py: float32 [M] pixel positions, floor(py) non-decreasing.
        solids: output of _solids.
        boxes: output of _screen_boxes.

    Returns:
        (t [M], entity id [M] (0 = ground), unit normal [M, 3], unit dirs [M, 3]).
    """
    d = camera.ray_directions(px, py)  # [M, 3]
    o = camera.CAMERA_POSITION.astype(np.float32)[None]  # [1, 3]
    t = np.where(d[:, 2] < 0, -o[0, 2] / np.minimum(d[:, 2], -1e-9), np.inf)  # [M]
    ids = np.zeros(len(px), np.int32)  # [M]
    normal = np.zeros((len(px), 3), np.float32)
    normal[:, 2] = 1.0
    rows = np.floor(py).astype(np.int32)
    for k, (x0, x1, y0, y1) in enumerate(boxes):
        lo, hi = np.searchsorted(rows, [np.floor(y0), np.floor(y1) + 1])
        sel = lo + np.nonzero((px[lo:hi] >= x0) & (px[lo:hi] <= x1))[0]  # [S]
        if sel.size == 0:
            continue
        t_k, n_k = _hit(solids, k, o, d[sel])  # [S], [S, 3]
        closer = t_k < t[sel]
        sel = sel[closer]
        t[sel], ids[sel], normal[sel] = t_k[closer], k + 1, n_k[closer]
    return t, ids, normal, d


def _in_shadow(points, normal, solids):
    """Whether the key light is blocked for each surface point.

    Args:
        points: float32 [M, 3] surface points; normal: [M, 3] unit normals.
        solids: output of _solids.

    Returns:
        bool [M].
    """
    to_light = _KEY_POSITION - points  # [M, 3]
    dist = np.linalg.norm(to_light, axis=-1)  # [M]
    l = to_light / dist[:, None]  # [M, 3]
    shadow = np.zeros(len(points), bool)
    facing = np.einsum("ij,ij->i", normal, l) > 0  # [M]
    for k in range(len(solids["shape"])):
        w = solids["centre"][k] - _KEY_POSITION  # [3]
        dist_k = np.linalg.norm(w)
        cos_k = np.sqrt(1.0 - (solids["bound"][k] / dist_k) ** 2)
        in_cone = (l @ (-w / dist_k)) > cos_k  # [M]
        sel = np.nonzero(in_cone & facing & ~shadow & (dist > dist_k - solids["bound"][k]))[0]
        if sel.size == 0:
            continue
        origin = points[sel] + 2 * _EPS * normal[sel]  # [S, 3]
        t_k, _ = _hit(solids, k, origin, l[sel])  # [S]
        shadow[sel] = t_k < dist[sel]
    return shadow


def _diffuse(points, normal, shadow):
    """Light arriving at surface points (ambient + key + fill + back), [M]."""
    unit = lambda v: v / np.linalg.norm(v)
    to_key = _KEY_POSITION - points  # [M, 3]
    dist2 = np.einsum("ij,ij->i", to_key, to_key)  # [M]
    falloff = np.sqrt((_KEY_POSITION @ _KEY_POSITION) / dist2)  # 1 at the origin
    key = np.einsum("ij,ij->i", normal, to_key) / np.sqrt(dist2)  # [M]
    key = _KEY_INTENSITY * np.maximum(key, 0.0) * np.minimum(falloff, 1.2) * ~shadow
    fill = _FILL_INTENSITY * np.maximum(normal @ unit(_FILL_DIRECTION), 0.0)
    back = _BACK_INTENSITY * np.maximum(normal @ unit(_BACK_DIRECTION), 0.0)
    return _AMBIENT + key + fill + back


def _environment(points, reflect):
    """Radiance seen along reflected rays: the lit ground below, a grey sky above."""
    down = reflect[:, 2] < -1e-3  # [M]
    t = np.where(down, -points[:, 2] / np.minimum(reflect[:, 2], -1e-3), 0.0)
    ground = points + t[:, None] * reflect  # [M, 3]
    up = np.zeros_like(ground)
    up[:, 2] = 1.0
    ground_rgb = _GROUND_ALBEDO * _diffuse(ground, up, np.zeros(len(points), bool))
    sky = _HORIZON + (_SKY - _HORIZON) * np.sqrt(np.clip(reflect[:, 2], 0.0, 1.0))
    return np.where(down, ground_rgb, sky)  # [M]


def _shade(t, ids, normal, d, solids, layout):
    """Colour of camera-ray hits.

    Args:
        t, ids, normal, d: output of _cast.
        solids, layout: the scene.

    Returns:
        (rgb float32 [M, 3] in [0, 1], shadow bool [M]).
    """
    points = camera.CAMERA_POSITION.astype(np.float32) + t[:, None] * d  # [M, 3]
    shadow = _in_shadow(points, normal, solids)  # [M]
    light = _diffuse(points, normal, shadow)  # [M]
    albedo_table = np.concatenate([np.full((1, 3), _GROUND_ALBEDO, np.float32),
                                   COLOR_RGB[layout["color"]]])  # [n + 1, 3]
    metal = np.concatenate([[False], layout["material"] == _METAL])[ids]  # [M]
    albedo = albedo_table[ids]  # [M, 3]
    to_key = _KEY_POSITION - points
    half_vec = to_key / np.linalg.norm(to_key, axis=-1, keepdims=True) - d  # [M, 3]
    half_vec /= np.linalg.norm(half_vec, axis=-1, keepdims=True)
    n_dot_h = np.maximum(np.einsum("ij,ij->i", normal, half_vec), 0.0) * ~shadow  # [M]
    rgb = albedo * light[:, None]  # [M, 3]
    on_object = ids > 0
    rgb += np.where(on_object & ~metal, 0.06 * n_dot_h ** 8, 0.0)[:, None]
    if metal.any():
        m = np.nonzero(metal)[0]
        rgb[m] = _metal(points[m], normal[m], d[m], albedo[m], light[m], shadow[m],
                        solids, albedo_table)
    return np.clip(rgb, 0.0, 1.0), shadow


def _metal(points, normal, d, albedo, light, shadow, solids, albedo_table):
    """Metal colour: dim diffuse, tinted mirror reflection, sharp highlight, [S, 3]."""
    reflect = d - 2 * np.einsum("ij,ij->i", d, normal)[:, None] * normal  # [S, 3]
    env = np.repeat(_environment(points, reflect)[:, None], 3, axis=1)  # [S, 3]
    origin = points + 2 * _EPS * normal  # [S, 3]
    t_best = np.full(len(points), np.inf, np.float32)
    for k in range(len(solids["shape"])):
        t_k, n_k = _hit(solids, k, origin, reflect)  # [S], [S, 3]
        closer = np.nonzero(t_k < t_best)[0]
        if closer.size == 0:
            continue
        t_best[closer] = t_k[closer]
        seen = origin[closer] + t_k[closer, None] * reflect[closer]  # [C, 3]
        lit = _diffuse(seen, n_k[closer], np.zeros(closer.size, bool))  # [C]
        env[closer] = albedo_table[k + 1] * lit[:, None]
    to_key = _KEY_POSITION - points
    to_key /= np.linalg.norm(to_key, axis=-1, keepdims=True)
    glint = np.maximum(np.einsum("ij,ij->i", reflect, to_key), 0.0) * ~shadow  # [S]
    fresnel = (1.0 - np.abs(np.einsum("ij,ij->i", d, normal))) ** 5  # [S]
    highlight = glint ** 300 + 0.3 * glint ** 30  # [S]
    return (albedo * (0.15 * light[:, None] + 1.1 * env)
            + (0.3 * fresnel)[:, None] * env + highlight[:, None])


def _edges(ids, shadow, normal):
    """Pixels [H, W] where the id, the shadow or the surface normal changes."""
    edge = np.zeros(ids.shape, bool)
    for field in (ids, shadow):
        dy, dx = field[1:] != field[:-1], field[:, 1:] != field[:, :-1]
        edge[1:] |= dy
        edge[:-1] |= dy
        edge[:, 1:] |= dx
        edge[:, :-1] |= dx
    crease_y = np.einsum("ijk,ijk->ij", normal[1:], normal[:-1]) < 0.95
    crease_x = np.einsum("ijk,ijk->ij", normal[:, 1:], normal[:, :-1]) < 0.95
    edge[1:] |= crease_y
    edge[:-1] |= crease_y
    edge[:, 1:] |= crease_x
    edge[:, :-1] |= crease_x
    return edge


def _render(layout):
    """Renders a layout; returns (image uint8 [H, W, 3], ids int32 [H, W])."""
    height, width = IMAGE_SIZE
    solids = _solids(layout)
    boxes = _screen_boxes(solids)
    py, px = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5  # [H, W] each
    t, ids, normal, d = _cast(px.ravel(), py.ravel(), solids, boxes)
    return solids, boxes, (t, ids, normal, d)


def _finish(layout, solids, boxes, hits):
    """Shades a cast frame and supersamples its edges; returns uint8 [H, W, 3]."""
    height, width = IMAGE_SIZE
    rgb, shadow = _shade(*hits, solids, layout)  # [H*W, 3], [H*W]
    ids, normal = hits[1], hits[2]
    edge = _edges(ids.reshape(height, width), shadow.reshape(height, width),
                  normal.reshape(height, width, 3)).ravel()  # [H*W]
    pix = np.nonzero(edge)[0]  # [E]
    if pix.size:
        offsets = np.array([0.25, 0.75], np.float32)
        sub_y = (pix // width)[:, None, None] + offsets[None, :, None]  # [E, 2, 1]
        sub_x = (pix % width)[:, None, None] + offsets[None, None, :]  # [E, 1, 2]
        sub_y, sub_x = np.broadcast_arrays(sub_y, sub_x)
        sub_hits = _cast(sub_x.ravel(), sub_y.ravel(), solids, boxes)
        sub_rgb, _ = _shade(*sub_hits, solids, layout)  # [4E, 3]
        rgb[pix] = sub_rgb.reshape(-1, 4, 3).mean(axis=1)
    image = np.round(rgb * 255.0).astype(np.uint8)
    return image.reshape(height, width, 3)


# ----------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------

def generate_scene(rng, min_objects=MIN_OBJECTS, max_objects=MAX_OBJECTS):
    """Renders one random CLEVR scene in the clevr_with_masks raw layout.

    Args:
        rng: np.random.Generator; the scene is a pure function of its state.
        min_objects: fewest objects (inclusive), >= 1.
        max_objects: most objects (inclusive), <= 10.

    Returns:
        dict of numpy arrays: "image" uint8 [240, 320, 3]; "mask" uint8
        [11, 240, 320, 1] in {0, 255}; float32 "x", "y", "z", "rotation",
        "visibility" [11] and "pixel_coords" [11, 3]; uint8 codes "shape",
        "color", "material", "size" [11] (0 = none, i = entry i - 1 of the tables).

    Raises:
        PlacementError: if the object-count range is invalid.
    """
    if not 1 <= min_objects <= max_objects <= MAX_NUM_ENTITIES - 1:
        raise PlacementError(
            f"need 1 <= min_objects <= max_objects <= 10, got {min_objects}, {max_objects}")
    num_objects = int(rng.integers(min_objects, max_objects + 1))
    while True:
        layout = _sample_layout(rng, num_objects)
        if layout is None:
            continue
        solids, boxes, hits = _render(layout)
        counts = np.bincount(hits[1], minlength=num_objects + 1)  # [n + 1]
        if counts[1:].min() >= MIN_PIXELS_PER_OBJECT:
            break
    image = _finish(layout, solids, boxes, hits)
    return _pack(layout, solids, image, hits[1].reshape(IMAGE_SIZE))


def _pack(layout, solids, image, ids):
    """Builds the raw-scene dict of generate_scene."""
    n = len(layout["shape"])
    k = MAX_NUM_ENTITIES
    masks = (ids[None] == np.arange(k)[:, None, None]).astype(np.uint8) * 255  # [K, H, W]
    scene = {"image": image, "mask": masks[..., None]}
    for i, name in enumerate("xyz"):
        scene[name] = np.zeros(k, np.float32)
        scene[name][1:n + 1] = solids["centre"][:, i]
    scene["pixel_coords"] = np.zeros((k, 3), np.float32)
    scene["pixel_coords"][1:n + 1] = camera.project(solids["centre"])
    scene["rotation"] = np.zeros(k, np.float32)
    scene["rotation"][1:n + 1] = layout["rotation"]
    for name in ("size", "material", "shape", "color"):
        scene[name] = np.zeros(k, np.uint8)
        scene[name][1:n + 1] = layout[name] + 1
    scene["visibility"] = np.zeros(k, np.float32)
    scene["visibility"][:n + 1] = 1.0
    return scene


def attribute_names(scene):
    """Decodes the uint8 attribute codes of a scene into names.

    Args:
        scene: a raw scene from generate_scene.

    Returns:
        list (one per present object) of dicts with "shape", "color", "material"
        and "size" strings.
    """
    tables = {"shape": SHAPES, "color": COLORS, "material": MATERIALS, "size": SIZES}
    present = np.nonzero(scene["shape"])[0]
    return [{name: tables[name][scene[name][i] - 1] for name in tables} for i in present]


def _benchmark(num_scenes=50):
    rng = np.random.default_rng(0)
    generate_scene(rng)
    start = time.perf_counter()
    for i in range(num_scenes):
        generate_scene(np.random.default_rng([0, 0, i]))
    elapsed = time.perf_counter() - start
    print(f"{num_scenes / elapsed:.1f} scenes/s ({1000 * elapsed / num_scenes:.1f} ms/scene)")


if __name__ == "__main__":
    _benchmark()
