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
so z is its half-height. Between any two objects dist - r1 - r2 >= 0.25 (with the
full r for cubes too, where CLEVR uses r / sqrt(2), so no two objects ever
intersect) and their
offsets along the camera's ground-projected left and behind axes are at least 0.4;
an object that fails 50 placements, or a scene in which an object covers fewer than
200 pixels, is resampled from scratch.

Rendering: the camera of `clevr_camera`; an infinite grey ground plane; a key
point light that casts hard shadows (shadow rays against the analytic shapes),
directional fill and back lights, and an ambient term. Rubber is Lambertian with a
faint sheen; metal is a dim diffuse term plus a colour-tinted mirror reflection
(of the other objects, else of the lit ground or a grey sky) and a sharp key-light
highlight. Rays are cast for all pixels at once: each object is intersected only
by the rays inside its projected bounding rectangle (sphere analytic, cube by the
slab test in its rotated frame, capped vertical cylinder) and the nearest hit
wins. Masks come from the ray through each pixel centre; the image re-renders the
pixels next to a change of object, shadow, mirrored object or face with 2 x 2
supersampling.

Speed (`python -m keras_slots.data.clevr`, one process on this 2-core AMD Zen 4
CPU, 200 scenes of 3-10 objects): 26 ms of CPU time per scene, i.e. about 39
scenes/s per core, so the 70k-scene training set takes about 30 minutes on one
core or 15 minutes with two processes.

Differences from the real CLEVR (Blender/Cycles path tracing): hard shadows from
one key light instead of soft area-light shadows, no indirect light, mirror
reflections without blur, fixed lights and camera (CLEVR jitters them).
"""

import functools
import time

import numpy as np

from keras_slots.data import clevr_camera as camera
from keras_slots.data import seeding

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
_RUBBER, _METAL = 0, 1
_EPS = 1e-3

# Lighting (intensities in [0, 1] of the base colour; positions chosen to
# resemble CLEVR's base scene: key light front-right, fill left, back light behind).
_KEY_POSITION = np.array([6.4, -2.9, 6.2], np.float32)
_KEY_INTENSITY = 0.75
_FILL_DIRECTION = np.array([-4.7, -2.9, 3.4], np.float32)
_FILL_DIRECTION /= np.linalg.norm(_FILL_DIRECTION)
_FILL_INTENSITY = 0.22
_BACK_DIRECTION = np.array([-1.2, 2.6, 5.8], np.float32)
_BACK_DIRECTION /= np.linalg.norm(_BACK_DIRECTION)
_BACK_INTENSITY = 0.18
_AMBIENT = 0.22
_GROUND_ALBEDO = 0.6
_SKY = 0.85
_HORIZON = 0.3
_CAMERA = camera.CAMERA_POSITION.astype(np.float32)


class SceneOptionError(ValueError):
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
# Vector helpers (explicit 3-term sums: numpy reductions over a length-3 axis are slow)
# ----------------------------------------------------------------------------

def _dot(a, b):
    """Row-wise dot product of [M, 3] arrays (either may be [1, 3] or [3]), [M]."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]


def _unit(v):
    """Rows of v [M, 3] scaled to unit length."""
    return v / np.sqrt(_dot(v, v))[:, None]


def _rotate_z(v, cos, sin):
    """Rotates vectors [M, 3] about the z axis by the angle with this cos / sin."""
    return np.stack([cos * v[:, 0] - sin * v[:, 1],
                     sin * v[:, 0] + cos * v[:, 1], v[:, 2]], axis=-1)


# ----------------------------------------------------------------------------
# Ray / shape intersection: origins o [M, 3] or [1, 3], unit directions d [M, 3].
# Each returns the first hit distance t > _EPS [M] (inf = miss) and the unit
# outward normal there [M, 3].
# ----------------------------------------------------------------------------

def _hit_sphere(o, d, centre, r):
    oc = o - centre  # [M, 3] or [1, 3]
    b = _dot(oc, d)  # [M]
    disc = b * b - (_dot(oc, oc) - r * r)  # [M]
    root = np.sqrt(np.maximum(disc, 0.0))
    t_near, t_far = -b - root, -b + root  # [M]
    t = np.where(t_near > _EPS, t_near, np.where(t_far > _EPS, t_far, np.inf))
    t = np.where(disc > 0.0, t, np.inf)  # [M]
    normal = (o + t[:, None] * d - centre) / r  # [M, 3]
    return t, normal


def _hit_box(o, d, centre, half, cos, sin):
    lo = _rotate_z(o - centre, cos, -sin)  # [M, 3] ray origin in the cube's frame
    ld = _rotate_z(d, cos, -sin)  # [M, 3]
    ld = np.where(np.abs(ld) < 1e-9, 1e-9, ld)
    t1, t2 = (-half - lo) / ld, (half - lo) / ld  # [M, 3] slab crossings
    t_in, t_out = np.minimum(t1, t2), np.maximum(t1, t2)  # [M, 3]
    t_near = np.maximum(np.maximum(t_in[:, 0], t_in[:, 1]), t_in[:, 2])  # [M]
    t_far = np.minimum(np.minimum(t_out[:, 0], t_out[:, 1]), t_out[:, 2])  # [M]
    t = np.where(t_near > _EPS, t_near, np.where(t_far > _EPS, t_far, np.inf))
    t = np.where(t_far >= t_near, t, np.inf)  # [M]
    entry_face = t_in == t_near[:, None]  # [M, 3] the slab crossed last on entry
    local = np.where(entry_face, -np.sign(ld), 0.0).astype(np.float32)  # [M, 3]
    return t, _rotate_z(local, cos, sin)


def _hit_cylinder(o, d, centre, r, half):
    rel = o - centre  # [M, 3] or [1, 3]
    ox, oy, oz = rel[:, 0], rel[:, 1], rel[:, 2]
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    a = np.maximum(dx * dx + dy * dy, 1e-12)  # [M]
    b = ox * dx + oy * dy
    disc = b * b - a * (ox * ox + oy * oy - r * r)  # [M]
    root = np.sqrt(np.maximum(disc, 0.0))
    t_side = np.full_like(a, np.inf)
    for cand in ((-b + root) / a, (-b - root) / a):  # the nearer root overwrites
        ok = (disc > 0.0) & (cand > _EPS) & (np.abs(oz + cand * dz) <= half)
        t_side = np.where(ok, cand, t_side)
    safe_dz = np.where(np.abs(dz) < 1e-9, 1e-9, dz)
    t_cap = np.full_like(a, np.inf)
    for level in (half, -half):
        cand = (level - oz) / safe_dz  # [M]
        x, y = ox + cand * dx, oy + cand * dy
        ok = (cand > _EPS) & (x * x + y * y <= r * r) & (cand < t_cap)
        t_cap = np.where(ok, cand, t_cap)
    t = np.minimum(t_side, t_cap)  # [M]
    p = rel + t[:, None] * d  # [M, 3] hit point relative to the centre
    on_cap = t_cap < t_side
    normal = np.stack([np.where(on_cap, 0.0, p[:, 0] / r),
                       np.where(on_cap, 0.0, p[:, 1] / r),
                       np.where(on_cap, np.sign(p[:, 2]), 0.0)], axis=-1)  # [M, 3]
    return t, normal.astype(np.float32)


def _hit(solids, k, o, d):
    """Hit distance [M] and normal [M, 3] of rays against object k."""
    centre, shape = solids["centre"][k], solids["shape"][k]
    if shape == _SPHERE:
        return _hit_sphere(o, d, centre, solids["radius"][k])
    if shape == _CUBE:
        return _hit_box(o, d, centre, solids["half"][k], solids["cos"][k], solids["sin"][k])
    return _hit_cylinder(o, d, centre, solids["radius"][k], solids["half"][k])


# ----------------------------------------------------------------------------
# Camera rays, shadows, shading
# ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _pixel_centre_rays():
    """Pixel centres px, py [H*W] (row-major) and their ray directions [H*W, 3]."""
    height, width = IMAGE_SIZE
    py, px = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5  # [H, W] each
    px, py = px.ravel(), py.ravel()
    dirs = camera.ray_directions(px, py)
    for array in (px, py, dirs):
        array.flags.writeable = False
    return px, py, dirs


def _screen_boxes(solids):
    """Pixel rectangles [n, 4] (x0, x1, y0, y1) that contain each object."""
    n = len(solids["shape"])
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (0, 2)],
                     np.float32)  # [8, 3]
    extent = np.stack([solids["radius"], solids["radius"], solids["half"]], axis=-1)  # [n, 3]
    foot = solids["centre"] * np.array([1, 1, 0], np.float32)  # [n, 3]
    corners = foot[:, None] + signs[None] * extent[:, None]  # [n, 8, 3]
    proj = camera.project(corners.reshape(-1, 3)).reshape(n, 8, 3)
    return np.stack([proj[..., 0].min(1) - 1, proj[..., 0].max(1) + 1,
                     proj[..., 1].min(1) - 1, proj[..., 1].max(1) + 1], axis=-1)


def _cast(px, py, d, solids, boxes):
    """Finds the nearest surface along camera rays.

    Args:
        px, py: float32 [M] pixel positions of the rays, floor(py) non-decreasing.
        d: float32 [M, 3] unit ray directions.
        solids: output of _solids; boxes: output of _screen_boxes.

    Returns:
        (t [M], entity id [M] int32 (0 = ground), unit normal [M, 3]).
    """
    o = _CAMERA[None]  # [1, 3]
    t = np.where(d[:, 2] < 0, -o[0, 2] / np.minimum(d[:, 2], -1e-9), np.inf)  # [M]
    ids = np.zeros(len(px), np.int32)  # [M]
    normal = np.zeros((len(px), 3), np.float32)  # [M, 3]
    normal[:, 2] = 1.0
    rows = py.astype(np.int32)
    for k, (x0, x1, y0, y1) in enumerate(boxes):
        lo, hi = np.searchsorted(rows, [np.floor(y0), np.floor(y1) + 1])
        sel = lo + np.nonzero((px[lo:hi] >= x0) & (px[lo:hi] <= x1))[0]  # [S]
        if sel.size == 0:
            continue
        t_k, n_k = _hit(solids, k, o, d[sel])  # [S], [S, 3]
        closer = t_k < t[sel]
        sel = sel[closer]
        t[sel], ids[sel], normal[sel] = t_k[closer], k + 1, n_k[closer]
    return t, ids, normal


def _in_shadow(points, normal, solids):
    """Whether an object blocks the key light, bool [M], for surface points [M, 3]."""
    to_light = _KEY_POSITION - points  # [M, 3]
    dist = np.sqrt(_dot(to_light, to_light))  # [M]
    l = to_light / dist[:, None]  # [M, 3]
    shadow = np.zeros(len(points), bool)
    facing = _dot(normal, l) > 0  # [M]
    for k in range(len(solids["shape"])):
        towards = solids["centre"][k] - _KEY_POSITION  # [3]
        dist_k = np.sqrt(towards @ towards)
        bound = solids["bound"][k]
        in_cone = (l @ (-towards / dist_k)) > np.sqrt(1.0 - (bound / dist_k) ** 2)  # [M]
        sel = np.nonzero(in_cone & facing & ~shadow & (dist > dist_k - bound))[0]  # [S]
        if sel.size:
            t_k, _ = _hit(solids, k, points[sel] + 2 * _EPS * normal[sel], l[sel])  # [S]
            shadow[sel] = t_k < dist[sel]
    return shadow


def _diffuse(points, normal, shadow):
    """Light arriving at surface points [M, 3]: ambient + key + fill + back, [M]."""
    to_key = _KEY_POSITION - points  # [M, 3]
    dist2 = _dot(to_key, to_key)  # [M]
    falloff = np.minimum(np.sqrt((_KEY_POSITION @ _KEY_POSITION) / dist2), 1.2)  # 1 at 0
    key = np.maximum(_dot(normal, to_key), 0.0) / np.sqrt(dist2) * falloff * ~shadow
    fill = np.maximum(normal @ _FILL_DIRECTION, 0.0)  # [M]
    back = np.maximum(normal @ _BACK_DIRECTION, 0.0)  # [M]
    return _AMBIENT + _KEY_INTENSITY * key + _FILL_INTENSITY * fill + _BACK_INTENSITY * back


def _environment(points, reflect):
    """Grey level seen along reflected rays [M, 3]: lit ground below, sky above, [M]."""
    down = reflect[:, 2] < -1e-3  # [M]
    t = np.where(down, -points[:, 2] / np.minimum(reflect[:, 2], -1e-3), 0.0)  # [M]
    ground = points + t[:, None] * reflect  # [M, 3]
    up = np.broadcast_to(np.float32([0, 0, 1]), ground.shape)
    ground_light = _GROUND_ALBEDO * _diffuse(ground, up, np.zeros(len(points), bool))
    sky = _HORIZON + (_SKY - _HORIZON) * np.sqrt(np.clip(reflect[:, 2], 0.0, 1.0))
    return np.where(down, ground_light, sky)


def _metal(points, normal, d, albedo, light, shadow, solids, albedo_table):
    """Metal colour: dim diffuse + tinted mirror reflection + highlight.

    The mirror ray sees the other objects (lit without shadows), else the
    environment; the highlight is a sharp lobe around the key light.

    Returns:
        (rgb [S, 3], entity id seen in the mirror [S] int32, 0 = environment).
    """
    reflect = d - 2 * _dot(d, normal)[:, None] * normal  # [S, 3]
    seen = np.repeat(_environment(points, reflect)[:, None], 3, axis=1)  # [S, 3]
    origin = points + 2 * _EPS * normal  # [S, 3]
    t_best = np.full(len(points), np.inf, np.float32)  # [S]
    seen_id = np.zeros(len(points), np.int32)  # [S]
    for k in range(len(solids["shape"])):
        t_k, n_k = _hit(solids, k, origin, reflect)  # [S], [S, 3]
        closer = np.nonzero(t_k < t_best)[0]  # [C]
        if closer.size:
            t_best[closer] = t_k[closer]
            hit = origin[closer] + t_k[closer, None] * reflect[closer]  # [C, 3]
            lit = _diffuse(hit, n_k[closer], np.zeros(closer.size, bool))  # [C]
            seen[closer] = albedo_table[k + 1] * lit[:, None]
            seen_id[closer] = k + 1
    glint = np.maximum(_dot(reflect, _unit(_KEY_POSITION - points)), 0.0) * ~shadow  # [S]
    glint2 = glint * glint
    glint32 = glint2 ** 16
    highlight = glint32 ** 9 + 0.3 * glint32  # ~ glint^288 + 0.3 glint^32
    fresnel = (1.0 - np.abs(_dot(d, normal))) ** 5  # [S]
    rgb = (0.15 * albedo * light[:, None] + 1.1 * albedo * seen
           + 0.3 * fresnel[:, None] * seen + highlight[:, None])
    return rgb, seen_id


def _shade(t, ids, normal, d, solids, layout):
    """Colour of camera-ray hits.

    Args:
        t, ids, normal: output of _cast; d: the ray directions [M, 3].
        solids, layout: the scene.

    Returns:
        (rgb float32 [M, 3] in [0, 1], detail int32 [M]: a code that changes where
        the key-light shadow or the object seen in a metal mirror changes).
    """
    points = _CAMERA + t[:, None] * d  # [M, 3]
    shadow = _in_shadow(points, normal, solids)  # [M]
    light = _diffuse(points, normal, shadow)  # [M]
    albedo_table = np.concatenate([np.full((1, 3), _GROUND_ALBEDO, np.float32),
                                   COLOR_RGB[layout["color"]]])  # [n + 1, 3]
    rgb = albedo_table[ids] * light[:, None]  # [M, 3]
    material = np.concatenate([[-1], layout["material"]])[ids]  # [M], -1 = ground
    rubber = np.nonzero(material == _RUBBER)[0]
    if rubber.size:  # a faint broad sheen
        half_vec = _unit(_unit(_KEY_POSITION - points[rubber]) - d[rubber])  # [R, 3]
        sheen = (np.maximum(_dot(normal[rubber], half_vec), 0.0) ** 2) ** 4  # [R]
        rgb[rubber] += (0.06 * sheen * ~shadow[rubber])[:, None]
    detail = shadow.astype(np.int32)  # [M]
    metal = np.nonzero(material == _METAL)[0]
    if metal.size:
        rgb[metal], seen_id = _metal(points[metal], normal[metal], d[metal],
                                     albedo_table[ids[metal]], light[metal], shadow[metal],
                                     solids, albedo_table)
        detail[metal] += 2 * seen_id
    return np.clip(rgb, 0.0, 1.0), detail


def _edges(ids, detail, normal):
    """Pixels [H, W] next to a change of id or detail, or on a crease of the normal."""
    edge = np.zeros(ids.shape, bool)
    changes = [(ids[1:] != ids[:-1], ids[:, 1:] != ids[:, :-1]),
               (detail[1:] != detail[:-1], detail[:, 1:] != detail[:, :-1]),
               ((normal[1:] * normal[:-1]).sum(-1) < 0.95,
                (normal[:, 1:] * normal[:, :-1]).sum(-1) < 0.95)]
    for down, across in changes:
        edge[1:] |= down
        edge[:-1] |= down
        edge[:, 1:] |= across
        edge[:, :-1] |= across
    return edge


def _render(layout):
    """Renders a layout.

    Args:
        layout: output of _sample_layout.

    Returns:
        (image uint8 [H, W, 3], entity id of each pixel centre int32 [H, W]).
        The image is None when an object covers fewer than MIN_PIXELS_PER_OBJECT
        pixel centres (the scene must then be resampled).
    """
    height, width = IMAGE_SIZE
    solids = _solids(layout)
    boxes = _screen_boxes(solids)
    px, py, d = _pixel_centre_rays()
    t, ids, normal = _cast(px, py, d, solids, boxes)  # [H*W], [H*W], [H*W, 3]
    counts = np.bincount(ids, minlength=len(boxes) + 1)  # [n + 1]
    if counts[1:].min() < MIN_PIXELS_PER_OBJECT:
        return None, ids.reshape(height, width)
    rgb, detail = _shade(t, ids, normal, d, solids, layout)  # [H*W, 3], [H*W]
    edge = _edges(ids.reshape(height, width), detail.reshape(height, width),
                  normal.reshape(height, width, 3)).ravel()  # [H*W]
    pix = np.nonzero(edge)[0]  # [E]
    if pix.size:  # 2 x 2 supersampling of the edge pixels
        offsets = np.float32([0.25, 0.75])
        sub_y = (pix // width).astype(np.float32)[:, None, None] + offsets[None, :, None]
        sub_x = (pix % width).astype(np.float32)[:, None, None] + offsets[None, None, :]
        sub_y, sub_x = (a.ravel() for a in np.broadcast_arrays(sub_y, sub_x))  # [4E]
        sub_d = camera.ray_directions(sub_x, sub_y)  # [4E, 3]
        sub_hits = _cast(sub_x, sub_y, sub_d, solids, boxes)
        sub_rgb, _ = _shade(*sub_hits, sub_d, solids, layout)  # [4E, 3]
        rgb[pix] = sub_rgb.reshape(-1, 4, 3).mean(axis=1)
    image = np.round(rgb * 255.0).astype(np.uint8).reshape(height, width, 3)
    return image, ids.reshape(height, width)


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
        SceneOptionError: if the object-count range is invalid.
    """
    if not 1 <= min_objects <= max_objects <= MAX_NUM_ENTITIES - 1:
        raise SceneOptionError(
            f"need 1 <= min_objects <= max_objects <= 10, got {min_objects}, {max_objects}")
    num_objects = int(rng.integers(min_objects, max_objects + 1))
    while True:
        layout = _sample_layout(rng, num_objects)
        if layout is not None:
            image, ids = _render(layout)
            if image is not None:
                return _pack(layout, image, ids)


def _pack(layout, image, ids):
    """Builds the raw-scene dict of generate_scene."""
    solids = _solids(layout)
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


def _benchmark(num_scenes=200):
    """Prints the CPU time and wall time per generated scene."""
    generate_scene(np.random.default_rng(0))
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(num_scenes):
        generate_scene(seeding.scene_rng(0, "train", i))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{num_scenes} scenes: {1000 * cpu / num_scenes:.1f} ms CPU/scene "
          f"({num_scenes / cpu:.1f} scenes/s per core), {num_scenes / wall:.1f} scenes/s wall")


if __name__ == "__main__":
    _benchmark()
