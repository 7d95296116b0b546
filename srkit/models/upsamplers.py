"""The upsamplers a searched network can end in (the ``upsampler`` choice of the block search space).

* ``direct``      -- one k x k conv to ``out * scale^2`` channels, then a pixel shuffle (IMDN, RFDN,
  RLFN, ESPCN; SwinIR-light's "pixelshuffledirect"). Its keys are ``0.weight``/``0.bias``.
* ``progressive`` -- EDSR's sub-pixel upsampler at full width (conv to r^2 C, shuffle r, per x2 or x3
  step), then a 3x3 conv to ``out`` (SwinIR-classical's "pixelshuffle").
* ``nearest``     -- per step, nearest-neighbour upsampling then a 3x3 conv and LeakyReLU(0.2), then
  a 3x3 conv to ``out`` (ESRGAN's and SwinIR-real's "nearest+conv"; no sub-pixel checkerboard).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import Upsampler, conv, pixelshuffle_head, steps_of

UPSAMPLERS: tuple[str, ...] = ("direct", "progressive", "nearest")


class NearestConv(nn.Module):
    def __init__(self, channels: int, out_channels: int, scale: int) -> None:
        super().__init__()
        self.steps = steps_of(scale)
        self.convs = nn.ModuleList(conv(channels, channels, 3) for _ in self.steps)
        self.last = conv(channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for r, c in zip(self.steps, self.convs, strict=True):
            x = F.leaky_relu(c(F.interpolate(x, scale_factor=r, mode="nearest")), 0.2)
        return self.last(x)


def build_upsampler(kind: str, channels: int, out_channels: int, scale: int) -> nn.Module:
    """The ``kind`` upsampler from ``channels`` features to ``out_channels`` at ``scale``."""
    if kind == "direct":
        return pixelshuffle_head(channels, out_channels, scale)
    if kind == "progressive":
        return nn.Sequential(Upsampler(scale, channels), conv(channels, out_channels, 3))
    if kind == "nearest":
        return NearestConv(channels, out_channels, scale)
    raise ValueError(f"unknown upsampler {kind!r}; choose one of {', '.join(UPSAMPLERS)}")
