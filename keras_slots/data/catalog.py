"""Any dataset: a published name (registry) or an image folder spec `images:PATH?...`."""

from keras_slots.data import folder
from keras_slots.data import registry


def get(name):
    """The DatasetInfo of a dataset name or an image folder spec.

    Raises:
        DataError: for an unknown name or a bad folder spec.
    """
    return folder.info(name) if folder.is_spec(name) else registry.get(name)


def preprocessing(name):
    """`DatasetInfo.preprocessing()` of a dataset name or folder spec, without reading a
    folder's files."""
    if folder.is_spec(name):
        return folder.preprocessing(name)
    return registry.get(name).preprocessing()
