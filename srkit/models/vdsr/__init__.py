"""VDSR (Kim et al., CVPR 2016): a 20-layer residual network on the bicubic-upsampled image."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import SRNet
from ..blocks import conv
from ..registry import register


class VDSR(SRNet):
    def __init__(
        self, scale: int, depth: int = 20, channels: int = 64, in_channels: int = 1, bias: bool = True
    ) -> None:
        super().__init__(scale, in_channels)
        layers: list[nn.Module] = [conv(in_channels, channels, 3, bias=bias), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [conv(channels, channels, 3, bias=bias), nn.ReLU(inplace=True)]
        layers.append(conv(channels, in_channels, 3, bias=bias))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return up + self.body(up)


@register("vdsr", scales=(2, 3, 4), paper_params=(({"scale": 2}, 665_000, 1000, "VDSR, 665K"),))
def vdsr(scale: int = 4, depth: int = 20, channels: int = 64, in_channels: int = 1, bias: bool = True) -> VDSR:
    """VDSR: 20 3x3 conv layers learning the residual over bicubic, Y channel (Kim et al. 2016);
    ``bias=False`` as in the PyTorch port whose weights circulate."""
    return VDSR(scale, depth, channels, in_channels, bias)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "vdsr": {"scale": 2, "depth": 4, "channels": 8},
}
