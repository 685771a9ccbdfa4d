"""CLEVR's pinhole camera: pixel rays, projection and ground-plane directions.

World frame: z up, the ground is the plane z = 0. The camera sits at
(7.48, -6.51, 5.34) and looks at the origin with a 35 mm lens on a 32 mm wide
sensor, rendering 320 x 240 pixels, so the focal length is 35 / 32 * 320 = 350
pixels. Pixel coordinates are continuous: x runs right over [0, 320), y runs
down over [0, 240), the pixel in row i and column j has its centre at
(j + 0.5, i + 0.5), and the look-at target projects to the image centre
(160, 120). Depth is the distance along the viewing axis (Blender's
`world_to_camera_view` z), as in CLEVR's `pixel_coords`.
"""

import numpy as np

IMAGE_HEIGHT, IMAGE_WIDTH = 240, 320
CAMERA_POSITION = np.array([7.48, -6.51, 5.34])
LOOK_AT = np.array([0.0, 0.0, 0.0])
WORLD_UP = np.array([0.0, 0.0, 1.0])
FOCAL_LENGTH_MM = 35.0
SENSOR_WIDTH_MM = 32.0
FOCAL_PX = FOCAL_LENGTH_MM / SENSOR_WIDTH_MM * IMAGE_WIDTH  # 350 pixels
PRINCIPAL_POINT = (IMAGE_WIDTH / 2.0, IMAGE_HEIGHT / 2.0)  # (160, 120)


def camera_frame():
    """Returns the camera's orthonormal (right, up, forward) axes in world space.

    Returns:
        A tuple of three float64 arrays of shape [3].
    """
    forward = LOOK_AT - CAMERA_POSITION
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, WORLD_UP)
    right = right / np.linalg.norm(right)
    up = np.cross(right, forward)
    return right, up, forward


def project(points):
    """Projects world points to (x_pixel, y_pixel, depth).

    Args:
        points: float array [N, 3] of world coordinates in front of the camera.

    Returns:
        float64 array [N, 3]: continuous pixel x (right), pixel y (down) and depth
        along the viewing axis.
    """
    right, up, forward = camera_frame()
    rel = np.asarray(points, np.float64) - CAMERA_POSITION  # [N, 3]
    depth = rel @ forward  # [N]
    px = PRINCIPAL_POINT[0] + FOCAL_PX * (rel @ right) / depth  # [N]
    py = PRINCIPAL_POINT[1] - FOCAL_PX * (rel @ up) / depth  # [N]
    return np.stack([px, py, depth], axis=-1)


def ray_directions(px, py):
    """Unit world-space directions of the rays through continuous pixel positions.

    Args:
        px: float array [N], pixel x positions.
        py: float array [N], pixel y positions.

    Returns:
        float32 array [N, 3] of unit directions; every ray starts at CAMERA_POSITION.
    """
    right, up, forward = (v.astype(np.float32) for v in camera_frame())
    u = (np.asarray(px, np.float32) - PRINCIPAL_POINT[0]) / FOCAL_PX  # [N]
    v = (np.asarray(py, np.float32) - PRINCIPAL_POINT[1]) / FOCAL_PX  # [N]
    dirs = forward + u[:, None] * right - v[:, None] * up  # [N, 3]
    return dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)


def ground_directions():
    """CLEVR's cardinal directions: camera axes projected on the ground plane.

    Returns:
        dict name -> float64 unit vector [2] (x, y) for "behind" (away from the
        camera), "front", "left" and "right".
    """
    right, _, forward = camera_frame()
    behind = forward[:2] / np.linalg.norm(forward[:2])
    left = -right[:2] / np.linalg.norm(right[:2])
    return {"behind": behind, "front": -behind, "left": left, "right": -left}
