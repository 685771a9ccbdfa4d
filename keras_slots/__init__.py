"""keras_slots: Slot Attention (Locatello et al., NeurIPS 2020) in TensorFlow 2 / Keras 3."""

__version__ = "0.1.0"
