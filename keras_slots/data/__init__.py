"""Datasets: built-in scene generators and readers of the DeepMind multi-object TFRecords.

A raw scene is a dict of numpy arrays as a published record decodes ("image" uint8
[H, W, 3], "mask" uint8 [K, H, W, 1] 0/255 with entity 0 the background, per-object
attributes [K, ...]). `get_dataset` yields model-ready elements (see `to_model_ready`).
Every dataset is described by one entry of `DATASETS` (keras_slots.data.registry).
"""

from keras_slots.data import folder  # noqa: F401 (data.folder: image folders)
from keras_slots.data import catalog  # noqa: F401 (data.catalog: names and folder specs)
from keras_slots.data import registry  # noqa: F401
from keras_slots.data.elements import to_model_ready
from keras_slots.data.pipeline import get_dataset
from keras_slots.data.pipeline import get_train_stream
from keras_slots.data.registry import DATASET_NAMES
from keras_slots.data.registry import DATASETS
from keras_slots.data.registry import DataError
from keras_slots.data.registry import DatasetInfo
