"""`python scripts/benchmark.py`: the program keras_slots.scripts.benchmark run from a checkout."""

from keras_slots import cli
from keras_slots.scripts import benchmark as program

__doc__ = program.__doc__  # absl's --help shows the program's own description.

if __name__ == "__main__":
    cli.run_program(program)
