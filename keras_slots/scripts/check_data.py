"""Scans downloaded dataset files record by record and reports the first bad record.

Each file is read in full and every record is decoded with its published layout (feature
sizes, GZIP integrity). Prints one line per good file; the first bad file stops the program
with one line naming the file and the record index, and exit status 1.

Example:
    python scripts/check_data.py --files=data/tetrominoes_train.tfrecords
"""

from absl import app, flags

from keras_slots import cli

_FILES = flags.DEFINE_list("files", None, "Published TFRecord files to scan.", required=True)
_DATASET = flags.DEFINE_string(
    "dataset", None, "Dataset whose layout the files have (default: found from each file "
    "name, e.g. tetrominoes_train.tfrecords -> tetrominoes).")


def dataset_of(path):
    """The dataset name whose published file name is the base name of `path`.

    Raises:
        app.UsageError: when no published file has that name.
    """
    import posixpath

    from keras_slots.data import registry

    base = posixpath.basename(path.replace("\\", "/"))
    for name, info in registry.DATASETS.items():
        if info.file_format.file_name == base:
            return name
    raise app.UsageError(f"cannot tell the dataset of {path} from its name; pass --dataset "
                         f"(one of {', '.join(registry.DATASETS)})")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from keras_slots.data import records, registry

    if _DATASET.value is not None and _DATASET.value not in registry.DATASETS:
        raise app.UsageError(f"unknown dataset {_DATASET.value!r}; choose one of "
                             f"{', '.join(registry.DATASETS)}")
    for path in _FILES.value:
        name = _DATASET.value or dataset_of(path)
        count = records.verify_file(path, name)
        print(f"ok: {path}: {count} records in the {name} layout")


if __name__ == "__main__":
    cli.run(main)
