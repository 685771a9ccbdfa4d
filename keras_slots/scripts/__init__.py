"""The absl programs (`python scripts/<name>.py` in a checkout, `keras-slots-<name>` installed).

Each module defines its flags and a `main`; `keras_slots.cli.run_program` runs it.
"""
