"""RCAN (Zhang et al., ECCV 2018): residual channel attention networks (residual in residual)."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import ChannelAttention
from ..base import SRNet
from ..blocks import MeanShift, Upsampler, conv
from ..registry import register


class RCAB(nn.Module):
    """conv - ReLU - conv - channel attention, plus the input (``body.0``, ``body.2``, ``body.3`` as in
    the official code, so its files load by name)."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv(channels, channels, 3),
            nn.ReLU(inplace=True),
            conv(channels, channels, 3),
            ChannelAttention(channels, reduction),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + x


class ResidualGroup(nn.Module):
    """``blocks`` RCABs and a conv, plus the group's input."""

    def __init__(self, channels: int, blocks: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*(RCAB(channels, reduction) for _ in range(blocks)), conv(channels, channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + x


class RCAN(SRNet):
    """Mean shift, head conv, ``groups`` residual groups and a conv (plus the head's output), EDSR's
    upsampler and a last conv; on [0, ``io_range``] inside (255 for the official weights)."""

    tiling = "discouraged: channel attention pools over the whole image, so tiles differ from it"

    def __init__(
        self,
        scale: int,
        channels: int = 64,
        groups: int = 10,
        blocks: int = 20,
        reduction: int = 16,
        in_channels: int = 3,
        io_range: float = 1.0,
    ) -> None:
        super().__init__(scale, in_channels)
        self.io_range = io_range
        self.sub_mean = MeanShift(sign=-1.0, value_range=io_range)
        self.add_mean = MeanShift(sign=1.0, value_range=io_range)
        self.head = conv(in_channels, channels, 3)
        body = [ResidualGroup(channels, blocks, reduction) for _ in range(groups)]
        self.body = nn.Sequential(*body, conv(channels, channels, 3))
        self.tail = nn.Sequential(Upsampler(scale, channels), conv(channels, in_channels, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.head(self.sub_mean(x * self.io_range))
        return self.add_mean(self.tail(self.body(f) + f)) / self.io_range


@register(
    "rcan",
    scales=(2, 3, 4, 8),
    paper_params=(({"scale": 4}, 16_000_000, 1_000_000, "RCAN, about 16M (Zhang et al. 2018, model-size comparison)"),),
)
def rcan(
    scale: int = 4,
    channels: int = 64,
    groups: int = 10,
    blocks: int = 20,
    reduction: int = 16,
    io_range: float = 1.0,
) -> RCAN:
    """RCAN: 10 residual groups of 20 channel-attention blocks, 64 channels (Zhang et al. 2018);
    ``io_range=255`` for the official weights."""
    return RCAN(scale, channels, groups, blocks, reduction, io_range=io_range)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "rcan": {"scale": 2, "channels": 16, "groups": 2, "blocks": 2, "reduction": 4},
}
