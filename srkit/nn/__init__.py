"""srkit's layers: thin modules over the dispatching ops in :mod:`srkit.ops`."""

from .pixel_shuffle import PixelShuffle, PixelUnshuffle
from .upsample_tail import UpsampleTail

__all__ = ["PixelShuffle", "PixelUnshuffle", "UpsampleTail"]
