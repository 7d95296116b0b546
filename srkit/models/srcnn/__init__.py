"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016) and an LR-space variant with a sub-pixel tail."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...nn import UpsampleTail
from ..base import SRNet
from ..registry import register


class SRCNN(SRNet):
    """Patch extraction (f1 x f1, n1) - ReLU - non-linear mapping (f2 x f2, n2) - ReLU - reconstruction
    (f3 x f3) on the bicubic-upsampled image, with 'same' padding."""

    def __init__(
        self,
        scale: int,
        kernel_sizes: tuple[int, int, int] = (9, 1, 5),
        widths: tuple[int, int] = (64, 32),
        in_channels: int = 1,
    ) -> None:
        super().__init__(scale, in_channels)
        (f1, f2, f3), (n1, n2) = kernel_sizes, widths
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, n1, f1, padding=f1 // 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(n1, n2, f2, padding=f2 // 2),
            nn.ReLU(inplace=True),
            nn.Conv2d(n2, in_channels, f3, padding=f3 // 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False))


class SRCNNSubpixel(SRNet):
    """SRCNN's three layers run at LR resolution with LeakyReLU; the last predicts ``scale^2`` sub-pixel
    residuals, shuffled and added to the bicubic image by srkit's fused tail."""

    def __init__(
        self,
        scale: int,
        kernel_sizes: tuple[int, int, int] = (9, 5, 5),
        widths: tuple[int, int] = (64, 32),
        in_channels: int = 3,
        slope: float = 0.2,
    ) -> None:
        super().__init__(scale, in_channels)
        (f1, f2, f3), (n1, n2) = kernel_sizes, widths
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, n1, f1, padding=f1 // 2),
            nn.LeakyReLU(slope, inplace=True),
            nn.Conv2d(n1, n2, f2, padding=f2 // 2),
            nn.LeakyReLU(slope, inplace=True),
            nn.Conv2d(n2, in_channels * scale * scale, f3, padding=f3 // 2),
        )
        self.tail = UpsampleTail(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return self.tail(self.body(x), skip=skip)


@register(
    "srcnn",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 3}, 8_000, 1000, "SRCNN 9-1-5, 8K"),
        ({"scale": 3, "kernel_sizes": (9, 5, 5)}, 57_000, 1000, "SRCNN 9-5-5, 57K"),
    ),
)
def srcnn(
    scale: int = 3,
    kernel_sizes: tuple[int, int, int] = (9, 1, 5),
    widths: tuple[int, int] = (64, 32),
    in_channels: int = 1,
) -> SRCNN:
    """SRCNN on the Y channel of the bicubic-upsampled image (Dong et al. 2014)."""
    return SRCNN(scale, tuple(kernel_sizes), tuple(widths), in_channels)  # type: ignore[arg-type]


@register("srcnn_ps", scales=(2, 3, 4, 8))
def srcnn_ps(
    scale: int = 4,
    kernel_sizes: tuple[int, int, int] = (9, 5, 5),
    widths: tuple[int, int] = (64, 32),
    in_channels: int = 3,
    slope: float = 0.2,
) -> SRCNNSubpixel:
    """SRCNN in LR space with LeakyReLU, a pixel-shuffle tail and a global bicubic residual."""
    return SRCNNSubpixel(scale, tuple(kernel_sizes), tuple(widths), in_channels, slope)  # type: ignore[arg-type]


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "srcnn": {"scale": 3, "kernel_sizes": (9, 1, 5), "widths": (8, 4)},
}
# models whose weights do not hold every hyper-parameter: srkit's metadata is their only record
UNDETECTABLE: dict[str, str] = {
    "srcnn_ps": "its LeakyReLU slope is not in the weights",
}
