"""The set-prediction target: 19 numbers per CLEVR object, padded to 10 objects.

Layout of one row (the paper's public code):
    [0:3]   3D coordinates (x, y, z) scaled from [-3, 3] to [0, 1]: (c + 3) / 6
    [3:5]   size, one-hot      (small, large)
    [5:7]   material, one-hot  (rubber, metal)
    [7:10]  shape, one-hot     (cube, sphere, cylinder)
    [10:18] colour, one-hot    (gray, blue, brown, yellow, red, green, purple, cyan)
    [18]    1 for a real object; padding rows are all zeros
The class orders are those of the tensorflow-datasets `clevr:3.1.0` ClassLabels, so the
integer labels TFDS yields are the one-hot positions. A model predicts the same 19 numbers
(sigmoid outputs); index 18 is then its "real object" score.
"""

import numpy as np
import tensorflow as tf

MAX_OBJECTS = 10
ELEMENT_SIZE = 19
COORDS = slice(0, 3)
REAL_OBJECT = 18
COORD_OFFSET = 3.0  # original coordinates lie in [-3, 3]
COORD_SCALE = 6.0  # width of that range: original = COORD_SCALE * value - COORD_OFFSET

# Property name -> class names in one-hot order; dict order = order in the row.
PROPERTIES = {
    "size": ("small", "large"),
    "material": ("rubber", "metal"),
    "shape": ("cube", "sphere", "cylinder"),
    "color": ("gray", "blue", "brown", "yellow", "red", "green", "purple", "cyan"),
}


def _property_slices():
    """Property name -> slice of its one-hot block, laid out after the coordinates."""
    slices, start = {}, COORDS.stop
    for name, classes in PROPERTIES.items():
        slices[name] = slice(start, start + len(classes))
        start += len(classes)
    assert start == REAL_OBJECT
    return slices


PROPERTY_SLICES = _property_slices()


class TargetError(ValueError):
    """Raised for object attributes that cannot be encoded as set-prediction targets."""


def class_index(prop, name):
    """The one-hot position of a class name.

    Args:
        prop: one of PROPERTIES ("size", "material", "shape", "color").
        name: class name, e.g. "metal".

    Returns:
        int index of `name` in PROPERTIES[prop].
    """
    if prop not in PROPERTIES:
        raise TargetError(f"unknown property {prop!r}; expected one of {', '.join(PROPERTIES)}")
    if name not in PROPERTIES[prop]:
        raise TargetError(f"unknown {prop} {name!r}; expected one of "
                          f"{', '.join(PROPERTIES[prop])}")
    return PROPERTIES[prop].index(name)


def encode(coords, size, material, shape, color, max_objects=MAX_OBJECTS):
    """Encodes the objects of one scene as a padded target set (TF ops; graph friendly).

    Args:
        coords: float [n, 3] 3D coordinates in original units ([-3, 3]).
        size, material, shape, color: int [n] class indices in PROPERTIES order.
        max_objects: rows of the result; n must not exceed it.

    Returns:
        float32 [max_objects, 19]: the n objects in the given order, then zero rows.
    """
    coords = tf.cast(tf.convert_to_tensor(coords), tf.float32)  # [n, 3]
    labels = {"size": size, "material": material, "shape": shape, "color": color}
    parts = [(coords + COORD_OFFSET) / COORD_SCALE]  # [n, 3] in [0, 1]
    for name, classes in PROPERTIES.items():
        parts.append(tf.one_hot(tf.cast(labels[name], tf.int32), len(classes)))  # [n, C]
    num_objects = tf.shape(coords)[0]
    parts.append(tf.ones([num_objects, 1]))  # [n, 1] real-object flag
    rows = tf.concat(parts, axis=1)  # [n, 19]
    tf.debugging.assert_less_equal(
        num_objects, max_objects, message=f"a scene has more than {max_objects} objects")
    rows = tf.pad(rows, [[0, max_objects - num_objects], [0, 0]])  # [max_objects, 19]
    return tf.ensure_shape(rows, [max_objects, ELEMENT_SIZE])


def encode_named(objects, max_objects=MAX_OBJECTS):
    """Encodes objects given by class names (numpy; e.g. CLEVR scene JSON objects).

    Args:
        objects: list of dicts with "3d_coords" (3 floats) and "size", "material",
            "shape", "color" class names.
        max_objects: rows of the result.

    Returns:
        float32 numpy [max_objects, 19].
    """
    if len(objects) > max_objects:
        raise TargetError(f"a scene has {len(objects)} objects, more than {max_objects}")
    rows = np.zeros((max_objects, ELEMENT_SIZE), np.float32)
    for row, obj in zip(rows, objects):
        row[COORDS] = (np.asarray(obj["3d_coords"], np.float32) + COORD_OFFSET) / COORD_SCALE
        for prop, block in PROPERTY_SLICES.items():
            row[block.start + class_index(prop, obj[prop])] = 1.0
        row[REAL_OBJECT] = 1.0
    return rows


def decode(values):
    """Reads predictions or targets back into coordinates and class indices (numpy).

    Args:
        values: [..., 19] rows in the target layout.

    Returns:
        dict: "coords" float [..., 3] in original units, one int [...] argmax class index
        per property name, and "real_object" float [...] (the flag or score at index 18).
    """
    values = np.asarray(values, np.float32)
    if values.shape[-1:] != (ELEMENT_SIZE,):
        raise TargetError(f"expected rows of {ELEMENT_SIZE} numbers, got shape {values.shape}")
    decoded = {"coords": values[..., COORDS] * COORD_SCALE - COORD_OFFSET}  # [..., 3]
    for prop, block in PROPERTY_SLICES.items():
        decoded[prop] = np.argmax(values[..., block], axis=-1)  # [...]
    decoded["real_object"] = values[..., REAL_OBJECT]  # [...]
    return decoded


def decode_names(values):
    """One scene's rows as readable objects.

    Args:
        values: [S, 19] predictions or targets of one scene.

    Returns:
        list of S dicts: "coords" (3 floats, original units), the four class names and
        "real_object" (float).
    """
    decoded = decode(values)
    if decoded["real_object"].ndim != 1:
        raise TargetError(f"expected one scene [S, {ELEMENT_SIZE}], got shape "
                          f"{np.shape(values)}")
    return [{"coords": [float(c) for c in decoded["coords"][i]],
             **{prop: PROPERTIES[prop][decoded[prop][i]] for prop in PROPERTIES},
             "real_object": float(decoded["real_object"][i])}
            for i in range(len(decoded["real_object"]))]
