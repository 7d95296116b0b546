"""RFDN (Liu et al., AIM 2020 winner): residual feature distillation blocks with ESA."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import SRNet
from ..blocks import ESA, conv, pixelshuffle_head
from ..registry import register


class RFDB(nn.Module):
    """1x1 distillation + 3x3 shallow residual refinement, three times; fusion by 1x1 conv, then ESA."""

    def __init__(self, channels: int, slope: float = 0.05) -> None:
        super().__init__()
        dc = channels // 2
        self.slope = slope
        self.c1_d, self.c1_r = nn.Conv2d(channels, dc, 1), conv(channels, channels, 3)
        self.c2_d, self.c2_r = nn.Conv2d(channels, dc, 1), conv(channels, channels, 3)
        self.c3_d, self.c3_r = nn.Conv2d(channels, dc, 1), conv(channels, channels, 3)
        self.c4 = conv(channels, dc, 3)
        self.c5 = nn.Conv2d(dc * 4, channels, 1)
        self.esa = ESA(channels, channels // 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = lambda t: F.leaky_relu(t, self.slope)  # noqa: E731
        kept, r = [], x
        for d, c in ((self.c1_d, self.c1_r), (self.c2_d, self.c2_r), (self.c3_d, self.c3_r)):
            kept.append(act(d(r)))
            r = act(c(r) + r)
        kept.append(act(self.c4(r)))
        return self.esa(self.c5(torch.cat(kept, dim=1)))


class RFDN(SRNet):
    min_size = 15

    def __init__(
        self, scale: int, channels: int = 50, blocks: int = 4, in_channels: int = 3, io_range: float = 1.0
    ) -> None:
        super().__init__(scale, in_channels)
        self.io_range = io_range
        self.blocks = blocks
        self.fea_conv = conv(in_channels, channels, 3)
        for i in range(blocks):
            self.add_module(f"B{i + 1}", RFDB(channels))
        self.c = nn.Sequential(nn.Conv2d(channels * blocks, channels, 1), nn.LeakyReLU(0.05, inplace=True))
        self.LR_conv = conv(channels, channels, 3)
        self.upsampler = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.fea_conv(x * self.io_range)
        outs, y = [], f
        for i in range(self.blocks):
            y = getattr(self, f"B{i + 1}")(y)
            outs.append(y)
        return self.upsampler(self.LR_conv(self.c(torch.cat(outs, dim=1))) + f) / self.io_range


@register("rfdn", scales=(2, 3, 4), paper_params=(({"scale": 4}, 433_448, 1, "RFDN AIM 2020 entry (official file)"),))
def rfdn(scale: int = 4, channels: int = 50, blocks: int = 4, in_channels: int = 3, io_range: float = 1.0) -> RFDN:
    """RFDN: residual feature distillation blocks with enhanced spatial attention (Liu et al. 2020).

    Defaults are the AIM 2020 entry (50 channels, 4 blocks); the paper's RFDN is channels=48,
    blocks=6. ``io_range=255`` for the official weights, trained on [0, 255] images.
    """
    return RFDN(scale, channels, blocks, in_channels, io_range)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    # srkit's RFDN and RLFN names are the official ones, whose weights work on [0, 255]: a bare
    # state dict in them is read as an official file (srkit's own files carry io_range in metadata)
    "rfdn": {"scale": 2, "channels": 8, "blocks": 2, "io_range": 255.0},
}
