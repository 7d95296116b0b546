"""RDN (Zhang et al., CVPR 2018): residual dense network."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import PixelShuffle
from ..base import SRNet
from ..blocks import conv, steps_of
from ..registry import register


class RDB(nn.Module):
    """``layers`` densely connected conv+ReLU layers of growth ``growth``, a 1x1 local fusion, plus the input."""

    def __init__(self, channels: int, growth: int, layers: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Sequential(conv(channels + i * growth, growth, 3), nn.ReLU(inplace=True)) for i in range(layers)
        )
        self.fuse = nn.Conv2d(channels + layers * growth, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for c in self.convs:
            feats.append(c(torch.cat(feats, dim=1)))
        return self.fuse(torch.cat(feats, dim=1)) + x


class RDN(SRNet):
    def __init__(
        self,
        scale: int,
        channels: int = 64,
        blocks: int = 16,
        layers: int = 8,
        growth: int = 64,
        in_channels: int = 3,
        io_range: float = 1.0,
    ) -> None:
        super().__init__(scale, in_channels)
        self.io_range = io_range  # EDSR-PyTorch's RDN weights work on [0, 255] (rgb_range 255)
        self.sfe1 = conv(in_channels, channels, 3)
        self.sfe2 = conv(channels, channels, 3)
        self.rdbs = nn.ModuleList(RDB(channels, growth, layers) for _ in range(blocks))
        self.gff = nn.Sequential(nn.Conv2d(blocks * channels, channels, 1), conv(channels, channels, 3))
        up: list[nn.Module] = []
        width = channels
        for r in steps_of(scale):
            up += [conv(width, growth * r * r, 3), PixelShuffle(r)]
            width = growth
        self.upnet = nn.Sequential(*up, conv(growth, in_channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.sfe1(x * self.io_range)
        y = self.sfe2(f1)
        outs = []
        for rdb in self.rdbs:
            y = rdb(y)
            outs.append(y)
        return self.upnet(self.gff(torch.cat(outs, dim=1)) + f1) / self.io_range


@register("rdn", scales=(2, 3, 4))
def rdn(
    scale: int = 4,
    channels: int = 64,
    blocks: int = 16,
    layers: int = 8,
    growth: int = 64,
    in_channels: int = 3,
    io_range: float = 1.0,
) -> RDN:
    """RDN: 16 residual dense blocks of 8 layers, growth 64 (Zhang et al. 2018); ``io_range=255`` for EDSR-PyTorch's weights."""
    return RDN(scale, channels, blocks, layers, growth, in_channels, io_range)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "rdn": {"scale": 4, "channels": 8, "blocks": 2, "layers": 2, "growth": 4},
}
