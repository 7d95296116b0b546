"""RLFN (Kong et al., NTIRE 2022 ESR winner): residual local feature blocks with a light ESA."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import SRNet
from ..blocks import ESA, conv, pixelshuffle_head
from ..registry import register


class RLFB(nn.Module):
    """Three 3x3 conv + LeakyReLU with a local residual, a 1x1 conv, then ESA."""

    def __init__(self, channels: int, mid: int | None = None, esa_channels: int = 16, slope: float = 0.05) -> None:
        super().__init__()
        mid = mid or channels
        self.slope = slope
        self.c1_r = conv(channels, mid, 3)
        self.c2_r = conv(mid, mid, 3)
        self.c3_r = conv(mid, channels, 3)
        self.c5 = nn.Conv2d(channels, channels, 1)
        self.esa = ESA(channels, esa_channels, light=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for c in (self.c1_r, self.c2_r, self.c3_r):
            y = F.leaky_relu(c(y), self.slope)
        return self.esa(self.c5(y + x))


class RLFN(SRNet):
    min_size = 15

    def __init__(
        self,
        scale: int,
        channels: int = 52,
        mid: int | None = None,
        blocks: int = 6,
        esa_channels: int = 16,
        in_channels: int = 3,
        io_range: float = 1.0,
    ) -> None:
        super().__init__(scale, in_channels)
        self.io_range = io_range
        self.conv_1 = conv(in_channels, channels, 3)
        self.blocks = blocks
        for i in range(blocks):
            self.add_module(f"block_{i + 1}", RLFB(channels, mid, esa_channels))
        self.conv_2 = conv(channels, channels, 3)
        self.upsampler = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv_1(x * self.io_range)
        y = f
        for i in range(self.blocks):
            y = getattr(self, f"block_{i + 1}")(y)
        return self.upsampler(self.conv_2(y) + f) / self.io_range


@register(
    "rlfn",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 2}, 526_856, 1, "RLFN x2 (official file; paper 527K)"),
        ({"scale": 4}, 543_740, 1, "RLFN x4 (official file; paper 543K)"),
        ({"scale": 4, "channels": 46, "mid": 48, "blocks": 4}, 317_218, 1, "RLFN NTIRE 2022 entry (official file)"),
    ),
)
def rlfn(
    scale: int = 4,
    channels: int = 52,
    mid: int | None = None,
    blocks: int = 6,
    esa_channels: int = 16,
    in_channels: int = 3,
    io_range: float = 1.0,
) -> RLFN:
    """RLFN: residual local feature blocks, 52 channels (Kong et al. 2022); ``io_range=255`` for the official weights."""
    return RLFN(scale, channels, mid, blocks, esa_channels, in_channels, io_range)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "rlfn": {"scale": 2, "channels": 8, "mid": 8, "blocks": 2, "esa_channels": 4, "io_range": 255.0},
}
