"""ESPCN (Shi et al., CVPR 2016): efficient sub-pixel convolutional network."""

from __future__ import annotations

import torch
from torch import nn

from ..base import SRNet
from ..blocks import activation, pixelshuffle_head
from ..registry import register


class ESPCN(SRNet):
    """conv5x5 (64) - tanh - conv3x3 (32) - tanh - conv3x3 to ``in_channels * scale^2`` - pixel shuffle."""

    def __init__(self, scale: int, widths: tuple[int, int] = (64, 32), in_channels: int = 1, act: str = "tanh") -> None:
        super().__init__(scale, in_channels)
        n1, n2 = widths
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, n1, 5, padding=2),
            activation(act, n1),
            nn.Conv2d(n1, n2, 3, padding=1),
            activation(act, n2),
        )
        self.upsampler = pixelshuffle_head(n2, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsampler(self.body(x))


@register("espcn", scales=(2, 3, 4, 8))
def espcn(scale: int = 3, widths: tuple[int, int] = (64, 32), in_channels: int = 1, act: str = "tanh") -> ESPCN:
    """ESPCN on the Y channel (Shi et al. 2016); ``in_channels=3`` for RGB."""
    return ESPCN(scale, tuple(widths), in_channels, act)  # type: ignore[arg-type]


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "espcn": {"scale": 3, "widths": (8, 6), "in_channels": 1},
}
