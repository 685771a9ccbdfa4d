"""CLEVR set prediction (the paper's property-prediction task): targets, loss and data.

Each object is 19 numbers (see `targets`); a scene is a set of 10 such rows, real objects
first and zero rows after them. Modules:
    targets      the 19-number layout, encoding from CLEVR attributes, decoding to names
    loss         Huber cost with Hungarian matching, usable inside a tf.function
    images       the image preprocessing shared by every source (128x128, [-1, 1])
    clevr_tfds   CLEVR v1 through tensorflow-datasets ("clevr:3.1.0")
    clevr_files  CLEVR v1 from its download layout (images/ and scenes/*.json)
    builtin      targets for scenes of the built-in CLEVR renderer (offline training)
The average precision metric is `keras_slots.metrics.average_precision`.
"""
