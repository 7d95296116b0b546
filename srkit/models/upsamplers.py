"""The upsamplers a searched network can end in (the ``upsampler`` choice of the block search space).

* ``direct``      -- one k x k conv to ``out * scale^2`` channels, then a pixel shuffle (IMDN, RFDN,
  RLFN, ESPCN; SwinIR-light's "pixelshuffledirect"). Its keys are ``0.weight``/``0.bias``.
* ``progressive`` -- EDSR's sub-pixel upsampler at full width (conv to r^2 C, shuffle r, per x2 or x3
  step), then a 3x3 conv to ``out`` (SwinIR-classical's "pixelshuffle").
* ``nearest``     -- per step, nearest-neighbour upsampling then a 3x3 conv and LeakyReLU(0.2), then
  a 3x3 conv to ``out`` (ESRGAN's and SwinIR-real's "nearest+conv"; no sub-pixel checkerboard).

Each may end in ``+skip`` (``direct+skip``, ...): WDSR's skip branch, a 5x5 sub-pixel conv from the
LR *input* added to the output. It costs one 3 -> 3 scale^2 conv at LR size, whatever the width, and
gives a small network an interpolator from its first step, so it learns the residual in a short
training. The branch belongs to the network (it reads the input), so :func:`build_upsampler` builds
the features' part and :func:`build_skip` the branch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import Upsampler, conv, pixelshuffle_head, steps_of

BASE_UPSAMPLERS: tuple[str, ...] = ("direct", "progressive", "nearest")
SKIP = "+skip"
UPSAMPLERS: tuple[str, ...] = BASE_UPSAMPLERS + tuple(u + SKIP for u in BASE_UPSAMPLERS)


def split_upsampler(kind: str) -> tuple[str, bool]:
    """``"direct+skip"`` -> ``("direct", True)``; an unknown kind raises, naming the choices."""
    base, skip = (kind[: -len(SKIP)], True) if kind.endswith(SKIP) else (kind, False)
    if base not in BASE_UPSAMPLERS:
        raise ValueError(f"unknown upsampler {kind!r}; choose one of {', '.join(UPSAMPLERS)}")
    return base, skip


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
    """The ``kind`` upsampler from ``channels`` features to ``out_channels`` at ``scale`` (for a
    ``+skip`` kind its features' part)."""
    kind = split_upsampler(kind)[0]
    if kind == "direct":
        return pixelshuffle_head(channels, out_channels, scale)
    if kind == "progressive":
        return nn.Sequential(Upsampler(scale, channels), conv(channels, out_channels, 3))
    if kind == "nearest":
        return NearestConv(channels, out_channels, scale)
    raise AssertionError(kind)  # split_upsampler admits only the kinds above


def build_skip(in_channels: int, scale: int) -> nn.Sequential:
    """WDSR's skip branch: a 5x5 conv from the input to ``in x scale^2`` and a pixel shuffle."""
    return pixelshuffle_head(in_channels, in_channels, scale, k=5)
