"""The absl programs; installed as the package keras_slots.scripts (see pyproject.toml)."""
