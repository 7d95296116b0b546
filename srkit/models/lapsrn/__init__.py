"""LapSRN (Lai et al., CVPR 2017): Laplacian pyramid network, progressive x2 reconstruction."""

from __future__ import annotations

import torch
from torch import nn

from ..base import SRNet
from ..blocks import conv
from ..registry import register


class LapLevel(nn.Module):
    """One x2 pyramid level: ``depth`` conv+LeakyReLU, a transposed-conv feature upsampling and a
    residual predictor; the image is upsampled by its own transposed conv and the residual added."""

    def __init__(self, channels: int, depth: int, in_channels: int, slope: float = 0.2, bias: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [conv(channels, channels, 3, bias=bias), nn.LeakyReLU(slope, inplace=True)]
        up = nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1, bias=bias)
        layers += [up, nn.LeakyReLU(slope, inplace=True)]
        self.features = nn.Sequential(*layers)
        self.residual = conv(channels, in_channels, 3, bias=bias)
        self.image_up = nn.ConvTranspose2d(in_channels, in_channels, 4, stride=2, padding=1, bias=False)

    def forward(self, feat: torch.Tensor, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.features(feat)
        return feat, self.image_up(img) + self.residual(feat)


class LapSRN(SRNet):
    def __init__(
        self, scale: int, channels: int = 64, depth: int = 10, in_channels: int = 1, bias: bool = True
    ) -> None:
        super().__init__(scale, in_channels)
        if scale not in (2, 4, 8):
            raise ValueError(f"LapSRN upsamples in x2 levels: scale 2, 4 or 8, not {scale}")
        self.head = nn.Sequential(conv(in_channels, channels, 3, bias=bias), nn.LeakyReLU(0.2, inplace=True))
        levels = scale.bit_length() - 1
        self.levels = nn.ModuleList(LapLevel(channels, depth, in_channels, bias=bias) for _ in range(levels))

    def pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The x2, x4, ... outputs (LapSRN's multi-scale training supervises each)."""
        feat, img, outs = self.head(x), x, []
        for level in self.levels:
            feat, img = level(feat, img)
            outs.append(img)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pyramid(x)[-1]


@register("lapsrn", scales=(2, 4, 8))
def lapsrn(scale: int = 4, channels: int = 64, depth: int = 10, in_channels: int = 1, bias: bool = True) -> LapSRN:
    """LapSRN: progressive x2 pyramid levels with transposed convolutions (Lai et al. 2017);
    ``bias=False`` as in the PyTorch port whose weights circulate."""
    return LapSRN(scale, channels, depth, in_channels, bias)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "lapsrn": {"scale": 4, "channels": 8, "depth": 2},
}
