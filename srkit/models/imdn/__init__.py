"""IMDN (Hui et al., ACM MM 2019): information multi-distillation blocks with contrast-aware attention."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import ContrastChannelAttention
from ..base import SRNet
from ..blocks import conv, pixelshuffle_head
from ..imdb_path import path_forward
from ..registry import register


class IMDB(nn.Module):
    """Three 3x3 stages each keep ``distill`` channels and refine the rest; the kept channels and the
    last stage's output are weighted by CCA and fused by a 1x1 conv, plus the block input.

    It is the IMDB path ``111`` (:func:`srkit.models.imdb_path.path_forward`, one loop for both), with
    IMDN's module names, which its checkpoints use. The CCA scaling is folded into the 1x1 fusion
    (:func:`srkit.nn.scaled_pointwise`), so the scaled features are never written. ``attention=False``
    drops the CCA (a search-space variant).
    """

    def __init__(
        self, channels: int, distillation_rate: float = 0.25, slope: float = 0.05, attention: bool = True
    ) -> None:
        super().__init__()
        self.dc = int(channels * distillation_rate)
        self.rc = channels - self.dc
        self.slope = slope
        self.c1 = conv(channels, channels, 3)
        self.c2 = conv(self.rc, channels, 3)
        self.c3 = conv(self.rc, channels, 3)
        self.c4 = conv(self.rc, self.dc, 3)
        self.c5 = nn.Conv2d(self.dc * 4, channels, 1)
        self.cca = ContrastChannelAttention(self.dc * 4, reduction=16) if attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stages = [(c.weight, c.bias) for c in (self.c1, self.c2, self.c3)]
        last, fuse = (self.c4.weight, self.c4.bias), (self.c5.weight, self.c5.bias)
        return path_forward(x, "111", self.dc, stages, last, fuse, self.cca, self.slope)


class IMDN(SRNet):
    tiling = "discouraged: CCA's contrast and mean are whole-image statistics, so tiles differ from the whole image"

    def __init__(
        self, scale: int, channels: int = 64, blocks: int = 6, in_channels: int = 3, slope: float = 0.05
    ) -> None:
        super().__init__(scale, in_channels)
        self.fea_conv = conv(in_channels, channels, 3)
        for i in range(blocks):
            self.add_module(f"IMDB{i + 1}", IMDB(channels, slope=slope))
        self.blocks = blocks
        self.c = nn.Sequential(nn.Conv2d(channels * blocks, channels, 1), nn.LeakyReLU(slope, inplace=True))
        self.LR_conv = conv(channels, channels, 3)
        self.upsampler = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.fea_conv(x)
        outs = []
        y = f
        for i in range(self.blocks):
            y = getattr(self, f"IMDB{i + 1}")(y)
            outs.append(y)
        return self.upsampler(self.LR_conv(self.c(torch.cat(outs, dim=1))) + f)


@register(
    "imdn",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 2}, 694_404, 1, "IMDN x2 (official file; paper 694K)"),
        ({"scale": 3}, 703_059, 1, "IMDN x3 (official file; paper 703K)"),
        ({"scale": 4}, 715_176, 1, "IMDN x4 (official file; paper 715K)"),
    ),
)
def imdn(scale: int = 4, channels: int = 64, blocks: int = 6, in_channels: int = 3) -> IMDN:
    """IMDN: 6 information multi-distillation blocks, 64 channels, CCA (Hui et al. 2019)."""
    return IMDN(scale, channels, blocks, in_channels)


class SimplifiedIMDN(SRNet):
    """KAIR's simplified IMDN: IMDBs without contrast attention, a body conv and one residual over
    the whole body (no 1x1 fusion of every block's output), then the sub-pixel conv."""

    def __init__(
        self, scale: int, channels: int = 64, blocks: int = 8, in_channels: int = 3, slope: float = 0.05
    ) -> None:
        super().__init__(scale, in_channels)
        self.fea_conv = conv(in_channels, channels, 3)
        self.blocks = nn.Sequential(*(IMDB(channels, slope=slope, attention=False) for _ in range(blocks)))
        self.LR_conv = conv(channels, channels, 3)
        self.upsampler = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.fea_conv(x)
        return self.upsampler(self.LR_conv(self.blocks(f)) + f)


@register("imdn_simplified", scales=(2, 3, 4))
def imdn_simplified(scale: int = 4, channels: int = 64, blocks: int = 8, in_channels: int = 3) -> SimplifiedIMDN:
    """KAIR's simplified IMDN (AIM 2019): 8 IMDBs without CCA, 64 channels, one global residual."""
    return SimplifiedIMDN(scale, channels, blocks, in_channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "imdn": {"scale": 2, "channels": 16, "blocks": 2},
    "imdn_simplified": {"scale": 3, "channels": 16, "blocks": 2},
}
