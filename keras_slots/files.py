"""Files on any file system TensorFlow knows (local, gs://, ram://, ...) via tf.io.gfile."""

import os
import uuid

import tensorflow as tf


def is_local(path):
    """True for a plain local path, False for a URL such as gs://bucket/run or ram://run."""
    return "://" not in os.fspath(path)


def is_file(path):
    """True when path exists and is not a directory."""
    return tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path)


def write_atomic(path, data):
    """Writes str or bytes to path through a temporary file beside it and a rename.

    Readers never see a partly written file (on object stores such as GCS the rename is a
    copy, which also appears whole).
    """
    tmp = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        with tf.io.gfile.GFile(tmp, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        tf.io.gfile.rename(tmp, path, overwrite=True)
    finally:
        if tf.io.gfile.exists(tmp):
            tf.io.gfile.remove(tmp)
