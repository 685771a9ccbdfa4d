"""Shared pytest setup: quiet TensorFlow and test this checkout's keras_slots.

`pip install -r requirements.txt` installs the checkout (editable), so scripts/*.py import
it. Tests put the checkout first on the path of this process and of every subprocess they
start (PYTHONPATH), so they test these files even where another copy is installed.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
_paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
if ROOT not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in _paths if p])
