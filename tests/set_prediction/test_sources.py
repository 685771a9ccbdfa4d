"""Which CLEVR source a data_dir selects, and resumable training streams of each."""

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_slots.set_prediction import sources
from tests.set_prediction.test_data import make_scene, tfds_records, write_clevr_folder


def _scenes(count, split):
    rng = np.random.default_rng(1)
    return [make_scene(rng, i, 3 + i % 4, split=split) for i in range(count)]


def test_data_dir_selects_the_source(tmp_path):
    assert sources.source_of(None) == sources.BUILTIN
    assert sources.source_of(str(tmp_path)) == sources.TFDS
    write_clevr_folder(tmp_path / "CLEVR_v1.0", _scenes(2, "val"), split="val")
    assert sources.source_of(str(tmp_path / "CLEVR_v1.0")) == sources.FILES


def test_files_stream_shuffles_each_epoch_and_resumes_exactly(tmp_path):
    root = tmp_path / "CLEVR_v1.0"
    write_clevr_folder(root, _scenes(5, "train"), split="train")

    def stream(start, shuffle=True):
        ds = sources.get_train_stream(str(root), seed=3, start_position=start,
                                      shuffle=shuffle, resolution=(16, 16))
        return [(int(e["position"]), e["target"].tobytes(), e["image"].tobytes())
                for e in ds.take(12 - start).as_numpy_iterator()]

    full = stream(0)
    assert [p for p, _, _ in full] == list(range(12))
    first, second = [t for _, t, _ in full[:5]], [t for _, t, _ in full[5:10]]
    assert sorted(first) == sorted(second) and first != second  # Each epoch reshuffled.
    assert stream(7) == full[7:]  # Resumed mid-epoch: the same elements.
    in_order = stream(0, shuffle=False)
    assert [t for _, t, _ in in_order[:5]] == [t for _, t, _ in in_order[5:10]]


def test_tfds_stream_positions_and_resume(tmp_path):
    scenes = _scenes(6, "train")

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_generator(
            lambda: tfds_records(scenes), output_signature=self.info.features.get_tensor_spec())

    def stream(start):
        ds = sources.get_train_stream(str(tmp_path), seed=2, start_position=start,
                                      resolution=(16, 16))
        return [(int(e["position"]), e["target"].tobytes())
                for e in ds.take(14 - start).as_numpy_iterator()]

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        full = stream(0)
        resumed = stream(9)
    assert [p for p, _ in full] == list(range(14))
    assert resumed == full[9:]
    assert len({t for _, t in full}) == 6  # Every scene, repeated.


def test_test_split_of_each_source(tmp_path):
    built_in = list(sources.get_dataset("test", None, num_examples=2, resolution=(16, 16)))
    assert len(built_in) == 2 and built_in[0]["target"].shape == (10, 19)
    root = tmp_path / "CLEVR_v1.0"
    write_clevr_folder(root, _scenes(3, "val"), split="val")
    files = list(sources.get_dataset("test", str(root), num_examples=2, resolution=(16, 16)))
    assert len(files) == 2 and files[0]["image"].shape == (16, 16, 3)
