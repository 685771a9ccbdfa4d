"""Files on any file system TensorFlow knows (local, gs://, ram://, ...) via tf.io.gfile.

Atomic writes: a file or folder is written under a unique temporary name beside its
destination, then renamed onto it, so readers never see it partly written and concurrent
writers never share a temporary name.
"""

import contextlib
import os
import shutil
import uuid

import tensorflow as tf


def is_local(path):
    """True for a plain local path, False for a URL such as gs://bucket/run or ram://run."""
    return "://" not in os.fspath(path)


def is_file(path):
    """True when path exists and is not a directory."""
    return tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path)


def _temporary_name(path):
    """A unique hidden name in the folder of `path`: <folder>/.<name>.tmp-<random hex>."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".{name}.tmp-{uuid.uuid4().hex}")


@contextlib.contextmanager
def atomic_file(path):
    """Yields a temporary file path; when the block ends without error, it becomes `path`.

    For files written by another library (a TFRecordWriter, ...). The temporary file is
    removed when the block raises. On object stores such as GCS the rename is a copy,
    which also appears whole.

    Args:
        path: the destination file (any file system).

    Yields:
        The temporary path to write to, in the same folder.
    """
    tmp = _temporary_name(path)
    try:
        yield tmp
        tf.io.gfile.rename(tmp, os.fspath(path), overwrite=True)
    finally:
        if tf.io.gfile.exists(tmp):
            tf.io.gfile.remove(tmp)


def write_atomic(path, data):
    """Writes str or bytes to path (any file system) through `atomic_file`."""
    with atomic_file(path) as tmp:
        with tf.io.gfile.GFile(tmp, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)


@contextlib.contextmanager
def atomic_dir(path):
    """Yields a temporary folder path; when the block ends without error, it becomes `path`.

    Local paths only (object stores have no folder rename). An existing folder at `path`
    is moved aside first and deleted only once the new one is in place.

    Args:
        path: the destination folder.

    Yields:
        The temporary folder to create and fill, in the same parent folder.
    """
    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = _temporary_name(path)
    try:
        yield tmp
        _replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replace_dir(src, dst):
    """Moves src to dst; an old dst is moved aside first and deleted only afterwards."""
    old = None
    if os.path.exists(dst):
        old = _temporary_name(dst)
        os.replace(dst, old)
    os.replace(src, dst)
    if old:
        shutil.rmtree(old, ignore_errors=True)
