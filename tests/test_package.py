"""Packaging: pyproject's console commands, scripts run from a checkout, a real install."""

import os
import subprocess
import sys
import tomllib

import pytest

from keras_slots import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = os.path.join(ROOT, "keras_slots", "scripts")
SCRIPTS = sorted(name[:-3] for name in os.listdir(PROGRAMS)
                 if name.endswith(".py") and name != "__init__.py")
COMMAND_NAMES = {"import_checkpoint": "import"}  # keras-slots-<name>, where it is shorter.


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_every_script_is_a_console_command():
    project = _pyproject()
    commands = project["project"]["scripts"]
    assert sorted(cli.SCRIPTS) == SCRIPTS
    assert commands == {
        f"keras-slots-{COMMAND_NAMES.get(name, name).replace('_', '-')}": f"keras_slots.cli:{name}"
        for name in SCRIPTS}
    for name in SCRIPTS:
        assert callable(getattr(cli, name))
    setuptools = project["tool"]["setuptools"]
    assert "package-dir" not in setuptools  # the programs are a package of the library
    packages = {os.path.relpath(folder, ROOT).replace(os.sep, ".")
                for folder, _, files in os.walk(os.path.join(ROOT, "keras_slots"))
                if "__init__.py" in files}
    assert set(setuptools["packages"]) == packages and "keras_slots.scripts" in packages
    shims = sorted(n[:-3] for n in os.listdir(os.path.join(ROOT, "scripts")) if n.endswith(".py"))
    assert shims == SCRIPTS  # scripts/<name>.py for each program


def test_runtime_and_test_dependencies_cover_the_pins():
    project = _pyproject()["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    tests = {_name(r) for r in project["optional-dependencies"]["test"]}
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        pinned = {_name(line) for line in f if line.strip() and line[0] not in "#-"}
    assert {"tensorflow", "tensorboard", "keras", "numpy", "absl-py",
            "tensorflow-datasets"} <= runtime
    assert {"pytest", "scikit-learn"} <= tests and not tests & runtime
    assert pinned - runtime - tests == set()


def _name(requirement):
    for sep in "=<>!~;[ ":
        requirement = requirement.split(sep)[0]
    return requirement.strip().lower()


def test_scripts_do_not_touch_sys_path():
    for name in SCRIPTS:
        for path in (os.path.join(ROOT, "scripts", f"{name}.py"),
                     os.path.join(PROGRAMS, f"{name}.py")):
            with open(path) as f:
                assert "sys.path" not in f.read(), path


def test_programs_import_from_a_checkout_as_from_an_install(tmp_path):
    """keras_slots.scripts is part of the checkout's package: the console commands find the
    programs when a checkout is on PYTHONPATH, not only after installation."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-c", "import keras_slots.scripts.train as t; "
                           "print(t.__file__)"], capture_output=True, text=True, timeout=300,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == os.path.join(PROGRAMS, "train.py")


@pytest.mark.parametrize("name", ["train", "check_data"])
def test_script_runs_from_the_checkout(name, tmp_path):
    # The checkout's package comes from PYTHONPATH (see conftest.py), as from `pip install -e`.
    # absl's --help exits with status 1.
    proc = subprocess.run([sys.executable, os.path.join("scripts", f"{name}.py"), "--help"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert f"scripts/{name}.py:" in proc.stdout
    assert ("--model_dir" if name == "train" else "--files") in proc.stdout


@pytest.mark.slow
def test_pip_install_gives_the_package_and_console_commands(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=300)
    python, bin_dir = str(venv / "bin" / "python"), venv / "bin"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([python, "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", ROOT],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    where = subprocess.run([python, "-c", "import keras_slots.scripts.train as t; print(t.__file__)"],
                           capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert where.returncode == 0, where.stderr[-3000:]
    assert str(venv) in where.stdout and ROOT not in where.stdout
    for name in ("train", "check_data"):
        command = bin_dir / f"keras-slots-{name.replace('_', '-')}"
        proc = subprocess.run([str(command), "--help"], capture_output=True, text=True,
                              timeout=300, env=env, cwd=tmp_path)
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert ("--model_dir" if name == "train" else "--files") in proc.stdout
