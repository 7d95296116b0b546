"""FSRCNN (Dong et al., ECCV 2016): fast SRCNN with a learned deconvolution."""

from __future__ import annotations

import torch
from torch import nn

from ..base import SRNet
from ..registry import register


class FSRCNN(SRNet):
    """feature extraction (5x5, d) -> shrink (1x1, s) -> m mapping layers (3x3, s) -> expand (1x1, d)
    -> 9x9 transposed convolution with stride ``scale``; PReLU after every layer but the last."""

    def __init__(self, scale: int, d: int = 56, s: int = 12, m: int = 4, in_channels: int = 1) -> None:
        super().__init__(scale, in_channels)
        self.first_part = nn.Sequential(nn.Conv2d(in_channels, d, 5, padding=2), nn.PReLU(d))
        mid: list[nn.Module] = [nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            mid += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        mid += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
        self.mid_part = nn.Sequential(*mid)
        self.last_part = nn.ConvTranspose2d(d, in_channels, 9, stride=scale, padding=4, output_padding=scale - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_part(self.mid_part(self.first_part(x)))


@register(
    "fsrcnn", scales=(2, 3, 4), paper_params=(({"scale": 3}, 12_809, 1, "FSRCNN(56,12,4), Y channel (official file)"),)
)
def fsrcnn(scale: int = 4, d: int = 56, s: int = 12, m: int = 4, in_channels: int = 1) -> FSRCNN:
    """FSRCNN(d, s, m) on the Y channel (Dong et al. 2016)."""
    return FSRCNN(scale, d, s, m, in_channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "fsrcnn": {"scale": 2, "d": 8, "s": 4, "m": 2},
}
