"""The `>>> ` examples in the package's docstrings run, and show what they print.

Each example runs in its module's namespace plus `np` (numpy), the usual convention.
"""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import keras_slots

# The programs (keras_slots.scripts.*) define absl flags when imported, one process each:
# their examples are commands, run by the script tests.
MODULES = sorted(info.name for info in pkgutil.walk_packages(keras_slots.__path__,
                                                             "keras_slots.")
                 if not info.name.startswith("keras_slots.scripts."))


def _examples(name):
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name, extraglobs={"np": np})
    return [test for test in tests if test.examples]


def test_the_package_has_examples():
    with_examples = [name for name in MODULES if _examples(name)]
    assert {"keras_slots.data.seeding", "keras_slots.layers.slot_attention",
            "keras_slots.training.schedule"} <= set(with_examples)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail in {name}"
