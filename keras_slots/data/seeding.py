"""Seeds of the built-in scene streams.

Scene i of a split of a built-in stream is generated from
`np.random.default_rng([seed, split_code, i])`, with split_code 0 for "train" and 1 for
"test": a scene is a pure function of (seed, split, index), train and test never share a
scene, and a stream can start at any index (to resume a run) without generating the
scenes before it.
"""

import numpy as np

SPLIT_CODES = {"train": 0, "test": 1}


def scene_rng(seed, split, index):
    """The random generator of one scene of a built-in stream.

    Args:
        seed: int >= 0, the stream seed.
        split: "train" or "test".
        index: int >= 0, the scene's index in the split.

    Returns:
        A `np.random.Generator` seeded with [seed, split_code, index].

    Example:
        >>> int(scene_rng(0, "test", 3).integers(1000)) == int(
        ...     np.random.default_rng([0, 1, 3]).integers(1000))
        True
    """
    return np.random.default_rng([seed, SPLIT_CODES[split], int(index)])
