"""EDSR (Lim et al., CVPRW 2017): enhanced deep residual network, baseline and full."""

from __future__ import annotations

import torch
from torch import nn

from ..base import SRNet
from ..blocks import MeanShift, Upsampler, conv
from ..registry import register


class ResBlock(nn.Module):
    """conv - ReLU - conv, scaled by ``res_scale``, plus the input (no batch norm)."""

    def __init__(self, channels: int, res_scale: float = 1.0, k: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels, k), nn.ReLU(inplace=True), conv(channels, channels, k))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.add(x, self.body(x), alpha=self.res_scale)


class EDSR(SRNet):
    def __init__(
        self,
        scale: int,
        channels: int = 64,
        blocks: int = 16,
        res_scale: float = 1.0,
        in_channels: int = 3,
        io_range: float = 1.0,
    ) -> None:
        super().__init__(scale, in_channels)
        self.io_range = io_range  # the official weights work on [0, 255] (rgb_range 255)
        self.sub_mean = MeanShift(sign=-1.0, value_range=io_range)
        self.add_mean = MeanShift(sign=1.0, value_range=io_range)
        self.head = conv(in_channels, channels, 3)
        self.body = nn.Sequential(*(ResBlock(channels, res_scale) for _ in range(blocks)), conv(channels, channels, 3))
        self.tail = nn.Sequential(Upsampler(scale, channels), conv(channels, in_channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.head(self.sub_mean(x * self.io_range))
        return self.add_mean(self.tail(self.body(f) + f)) / self.io_range


@register(
    "edsr_baseline", scales=(2, 3, 4), paper_params=(({"scale": 2}, 1_370_000, 10_000, "EDSR-baseline x2, 1.37M"),)
)
def edsr_baseline(
    scale: int = 4, channels: int = 64, blocks: int = 16, res_scale: float = 1.0, io_range: float = 1.0
) -> EDSR:
    """EDSR-baseline: 16 residual blocks, 64 channels (Lim et al. 2017); ``io_range=255`` for the official weights."""
    return EDSR(scale, channels, blocks, res_scale, io_range=io_range)


@register("edsr", scales=(2, 3, 4), paper_params=(({"scale": 2}, 40_700_000, 100_000, "EDSR x2, 40.7M"),))
def edsr(scale: int = 4, channels: int = 256, blocks: int = 32, res_scale: float = 0.1, io_range: float = 1.0) -> EDSR:
    """EDSR: 32 residual blocks, 256 channels, residual scaling 0.1 (Lim et al. 2017)."""
    return EDSR(scale, channels, blocks, res_scale, io_range=io_range)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "edsr": {"scale": 2, "channels": 256, "blocks": 32, "res_scale": 0.1},
    "edsr_baseline": {"scale": 3, "channels": 8, "blocks": 2},
}
