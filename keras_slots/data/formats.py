"""The on-disk layout of the published DeepMind multi-object TFRecord files.

Every file is a GZIP-compressed TFRecord file of `tf.train.Example` protos. A "bytes"
feature holds ONE byte string per array element (a 64x64x3 image is 12288 strings of one
byte each; `tf.io.decode_raw` + squeeze gives uint8), a "float" feature is a float_list.
CLEVR's size / material / shape / color are bytes features too: one byte per object, an
integer code, decoded to uint8 [K].

Multi-dSprites stores its masks as [H, W, K, 1]; every other file stores [K, H, W, 1].
The Multi-dSprites "binarized" variant stores grayscale images [H, W, 1] and colours [K, 1].

Which dataset reads which file is said in keras_slots.data.registry.
"""

import dataclasses

BYTES = "bytes"  # One byte string per element, decoded to uint8.
FLOAT = "float"  # float_list, decoded to float32.


@dataclasses.dataclass(frozen=True)
class Feature:
    """One feature of a published tf.train.Example.

    Attributes:
        shape: shape of the decoded array, in the on-disk layout.
        kind: BYTES (uint8 elements) or FLOAT (float32 elements).
    """

    shape: tuple
    kind: str

    @property
    def size(self):
        """Number of elements (strings for BYTES, floats for FLOAT) in one record."""
        size = 1
        for dim in self.shape:
            size *= dim
        return size


@dataclasses.dataclass(frozen=True)
class FileFormat:
    """Layout of one published file.

    Attributes:
        file_name: published file name.
        image_size: (height, width).
        max_num_entities: masks per scene (K), background included.
        features: feature name -> Feature, shapes in the on-disk layout.
        masks_last: True when masks are stored [H, W, K, 1] (Multi-dSprites).
        grayscale: True when images are stored [H, W, 1] (Multi-dSprites binarized).
    """

    file_name: str
    image_size: tuple
    max_num_entities: int
    features: dict
    masks_last: bool = False
    grayscale: bool = False


def _clevr_features(k, height, width):
    return {
        "image": Feature((height, width, 3), BYTES),
        "mask": Feature((k, height, width, 1), BYTES),
        "x": Feature((k,), FLOAT),
        "y": Feature((k,), FLOAT),
        "z": Feature((k,), FLOAT),
        "pixel_coords": Feature((k, 3), FLOAT),
        "rotation": Feature((k,), FLOAT),
        "size": Feature((k,), BYTES),
        "material": Feature((k,), BYTES),
        "shape": Feature((k,), BYTES),
        "color": Feature((k,), BYTES),
        "visibility": Feature((k,), FLOAT),
    }


def _multi_dsprites_features(k, height, width, channels):
    return {
        "image": Feature((height, width, channels), BYTES),
        "mask": Feature((height, width, k, 1), BYTES),  # Entity axis third on disk.
        "x": Feature((k,), FLOAT),
        "y": Feature((k,), FLOAT),
        "shape": Feature((k,), FLOAT),
        "color": Feature((k, channels), FLOAT),
        "visibility": Feature((k,), FLOAT),
        "orientation": Feature((k,), FLOAT),
        "scale": Feature((k,), FLOAT),
    }


def _tetrominoes_features(k, height, width):
    return {
        "image": Feature((height, width, 3), BYTES),
        "mask": Feature((k, height, width, 1), BYTES),
        "x": Feature((k,), FLOAT),
        "y": Feature((k,), FLOAT),
        "shape": Feature((k,), FLOAT),
        "color": Feature((k, 3), FLOAT),
        "visibility": Feature((k,), FLOAT),
    }


def _objects_room_features(k, height, width):
    return {
        "image": Feature((height, width, 3), BYTES),
        "mask": Feature((k, height, width, 1), BYTES),
    }


def multi_dsprites(variant, k):
    """The file of a Multi-dSprites variant with k masks per scene."""
    grayscale = variant == "binarized"
    return FileFormat(f"multi_dsprites_{variant}.tfrecords", (64, 64), k,
                      _multi_dsprites_features(k, 64, 64, 1 if grayscale else 3),
                      masks_last=True, grayscale=grayscale)


def objects_room(file_name, k):
    """An Objects Room file with k masks per scene."""
    return FileFormat(file_name, (64, 64), k, _objects_room_features(k, 64, 64))


CLEVR_WITH_MASKS = FileFormat("clevr_with_masks_train.tfrecords", (240, 320), 11,
                              _clevr_features(11, 240, 320))
TETROMINOES = FileFormat("tetrominoes_train.tfrecords", (35, 35), 4,
                         _tetrominoes_features(4, 35, 35))
