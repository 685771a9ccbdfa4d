"""A preset's architecture at another input resolution (for folders of your own pictures).

Two families of decoder exist among the presets. The small-image one (Tetrominoes,
Multi-dSprites, Objects Room) broadcasts each slot to the full resolution and keeps it
with stride-1 convolutions: any size works. The CLEVR one broadcasts to a small grid and
upsamples it with strided transposed convolutions (8x8 times 16 = 128x128): the size must
be the grid times the product of the strides, so a size that is not a multiple of that
product cannot be reached.
"""

import dataclasses
import math


def at_resolution(model_config, resolution):
    """The same architecture for inputs of `resolution`.

    Args:
        model_config: a ModelConfig (a preset's).
        resolution: (H, W) of the inputs.

    Returns:
        A ModelConfig with `resolution` and the decoder's initial grid adapted.

    Raises:
        ValueError: when the decoder's strides cannot reach `resolution`.
    """
    height, width = (int(r) for r in resolution)
    if min(height, width) < 1:
        raise ValueError(f"resolution must be positive, got {height}x{width}")
    upsampling = math.prod(model_config.decoder_strides)
    if height % upsampling or width % upsampling:
        raise ValueError(
            f"the decoder cannot reach {height}x{width}: its strides "
            f"{tuple(model_config.decoder_strides)} upsample by {upsampling}, so height and "
            f"width must be multiples of {upsampling} (e.g. "
            f"{_nearest_multiple(height, upsampling)}x{_nearest_multiple(width, upsampling)})")
    return dataclasses.replace(model_config, resolution=(height, width),
                               decoder_initial_resolution=(height // upsampling,
                                                           width // upsampling))


def _nearest_multiple(value, factor):
    return max(factor, int(round(value / factor)) * factor)
