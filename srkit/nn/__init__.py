"""srkit's layers: thin modules over the dispatching ops in :mod:`srkit.ops`."""

from .cca import ChannelAttention, ContrastChannelAttention, scaled_conv1x1, scaled_pointwise
from .pixel_shuffle import PixelShuffle, PixelUnshuffle
from .upsample_tail import UpsampleTail
from .wdsr import WideActBlockA, WideActBlockB, apply_weight_norm, fold_weight_norm

__all__ = [
    "ChannelAttention",
    "ContrastChannelAttention",
    "PixelShuffle",
    "PixelUnshuffle",
    "UpsampleTail",
    "WideActBlockA",
    "WideActBlockB",
    "apply_weight_norm",
    "fold_weight_norm",
    "scaled_conv1x1",
    "scaled_pointwise",
]
