"""The 19-number target layout: class orders, encoding by hand, decoding."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_slots.set_prediction import targets


def test_class_orders_are_the_tfds_clevr_class_labels(tmp_path):
    # The builder's feature spec comes from TFDS's code; nothing is downloaded.
    features = tfds.builder("clevr:3.1.0", data_dir=str(tmp_path)).info.features["objects"]
    for prop, classes in targets.PROPERTIES.items():
        assert tuple(features[prop].names) == classes
    assert list(targets.PROPERTIES) == ["size", "material", "shape", "color"]


def test_encode_writes_the_published_layout():
    coords = np.array([[-3.0, 0.0, 3.0], [1.5, -1.5, 0.35]], "float32")
    rows = targets.encode(coords, size=[1, 0], material=[0, 1], shape=[2, 1],
                          color=[7, 3]).numpy()
    expected = np.zeros((10, 19), "float32")
    expected[0, 0:3] = [0.0, 0.5, 1.0]
    expected[0, 3 + 1] = expected[0, 5 + 0] = expected[0, 7 + 2] = expected[0, 10 + 7] = 1
    expected[1, 0:3] = [0.75, 0.25, (0.35 + 3) / 6]
    expected[1, 3 + 0] = expected[1, 5 + 1] = expected[1, 7 + 1] = expected[1, 10 + 3] = 1
    expected[:2, 18] = 1.0
    np.testing.assert_allclose(rows, expected, atol=1e-7)
    assert targets.PROPERTY_SLICES == {"size": slice(3, 5), "material": slice(5, 7),
                                       "shape": slice(7, 10), "color": slice(10, 18)}


def test_named_encoding_and_decoding_round_trip():
    objects = [{"3d_coords": [0.5, -2.0, 0.7], "size": "large", "material": "metal",
                "shape": "cylinder", "color": "cyan"},
               {"3d_coords": [-1.0, 2.5, 0.35], "size": "small", "material": "rubber",
                "shape": "cube", "color": "brown"}]
    rows = targets.encode_named(objects)
    by_index = targets.encode([o["3d_coords"] for o in objects], [1, 0], [1, 0], [2, 0],
                              [7, 2]).numpy()
    np.testing.assert_allclose(rows, by_index, atol=1e-7)
    names = targets.decode_names(rows)
    assert len(names) == 10
    for obj, decoded in zip(objects, names[:2]):
        for prop in targets.PROPERTIES:
            assert decoded[prop] == obj[prop]
        np.testing.assert_allclose(decoded["coords"], obj["3d_coords"], atol=1e-6)
        assert decoded["real_object"] == 1.0
    assert names[2]["real_object"] == 0.0
    decoded = targets.decode(np.stack([rows, rows]))
    assert decoded["coords"].shape == (2, 10, 3) and decoded["color"].shape == (2, 10)


def test_bad_attributes_are_named():
    with pytest.raises(ValueError, match="unknown color 'pink'"):
        targets.class_index("color", "pink")
    with pytest.raises(ValueError, match="more than 10"):
        targets.encode_named([{"3d_coords": [0, 0, 0], "size": "small", "material": "metal",
                               "shape": "cube", "color": "red"}] * 11)
    with pytest.raises(ValueError, match="19"):
        targets.decode(np.zeros((3, 18)))
