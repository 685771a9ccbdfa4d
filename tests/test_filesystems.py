"""Run directories, exports and data files on a non-local file system (TensorFlow's ram://).

ram:// lives in one process, so each test trains, resumes, exports and reads back in one.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import keras
import numpy as np
import tensorflow as tf

from keras_slots import export, visualize
from keras_slots.data import get_dataset, records
from keras_slots.data import registry
from keras_slots.training import checkpoints, loop
from tests.conftest import tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ram(name):
    return f"ram://{name}-{uuid.uuid4().hex}"


def test_train_resume_and_export_on_ram_filesystem(tmp_path):
    model_dir = _ram("run")
    first = loop.train(tiny_config(**{"train.num_steps": 2}), model_dir)
    assert first["step"] == 2
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-2")
    assert tf.io.gfile.exists(f"{model_dir}/config.json")
    assert tf.io.gfile.glob(f"{model_dir}/train/events.out.tfevents.*")
    assert not os.path.exists("ram:")  # No local folder named after the scheme.

    second = loop.train(tiny_config(**{"train.num_steps": 3}), model_dir)
    assert (second["step"], len(second["losses"])) == (3, 1)  # Resumed at step 2.

    model, config, step = checkpoints.restore_model(model_dir)
    assert step == 3 and config == checkpoints.load_config(model_dir)
    export_dir = _ram("export")
    export.export_saved_model(model, export_dir, {"step": step})
    names = set(tf.io.gfile.listdir(export_dir))
    assert {"saved_model.pb", export.METADATA_FILE, export.KERAS_FILE} <= names
    loaded = tf.saved_model.load(export_dir)
    assert json.loads(loaded.metadata().numpy().decode())["step"] == 3
    images = np.zeros((1, 35, 35, 3), np.float32)
    keras_model = keras.saving.load_model(f"{export_dir}/{export.KERAS_FILE}")
    np.testing.assert_allclose(
        keras_model(images, seed=tf.constant([1, 2]))["recon"].numpy(),
        model(images, seed=tf.constant([1, 2]))["recon"].numpy(), atol=1e-6)

    series = visualize.read_scalars(f"{model_dir}/train")
    assert list(series["loss"][0]) == [1, 2, 3]
    visualize.save_png(f"{model_dir}/picture.png", np.zeros((4, 4, 3), np.uint8))
    assert tf.io.gfile.exists(f"{model_dir}/picture.png")


def test_data_files_on_ram_filesystem():
    data_dir = _ram("data")
    tf.io.gfile.makedirs(data_dir)
    generate = registry.get("tetrominoes").generate
    path = records.dataset_path("tetrominoes", data_dir)
    scenes = [generate(np.random.default_rng([0, 0, i])) for i in range(5)]
    assert records.write_records(path, scenes, "tetrominoes") == 5
    assert tf.io.gfile.listdir(data_dir) == ["tetrominoes_train.tfrecords"]  # No temp file.
    assert records.verify_file(path, "tetrominoes") == 5
    read = list(get_dataset("tetrominoes", "train", data_dir=data_dir, num_examples=5))
    np.testing.assert_array_equal(read[3]["mask"], scenes[3]["mask"])


EVALUATE_ON_RAM = textwrap.dedent("""
    import json, runpy, sys
    import tensorflow as tf
    from tests.conftest import tiny_config
    from keras_slots.training import loop
    from keras_slots import cli
    loop.train(tiny_config(**{"train.num_steps": 2}), "ram://run")
    # ram:// lives in this process: the script must return here, not end the process.
    cli._exit_now = lambda code: sys.exit(code)
    sys.argv = ["evaluate.py", "--model_dir=ram://run", "--num_examples=4", "--batch_size=2",
                "--num_picture=2"]
    try:
        runpy.run_path(SCRIPT, run_name="__main__")
    except SystemExit as e:
        assert not e.code, e.code
    with tf.io.gfile.GFile("ram://run/eval/metrics.json") as f:
        table = json.load(f)
    print(json.dumps({"files": sorted(tf.io.gfile.listdir("ram://run/eval")),
                      "num_images": table["num_images"]}))
""")


def test_evaluate_script_on_ram_filesystem():
    script = EVALUATE_ON_RAM.replace("SCRIPT", repr(os.path.join(ROOT, "scripts", "evaluate.py")))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["num_images"] == 4
    assert {"masks.png", "metrics.json", "metrics.md"} <= set(result["files"])
