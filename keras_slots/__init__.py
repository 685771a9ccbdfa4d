"""keras_slots: Slot Attention (Locatello et al., NeurIPS 2020) in TensorFlow 2 / Keras 3.

Importing the package registers every layer and model with Keras, so
`keras.saving.load_model("model.keras")` works after `import keras_slots` alone.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # The library is TensorFlow-only.

__version__ = "0.1.0"

from keras_slots import layers  # noqa: E402  (registers the layers)
from keras_slots import models  # noqa: E402  (registers the models)
from keras_slots.api import load, train  # noqa: E402,F401  (the Python entry points)
