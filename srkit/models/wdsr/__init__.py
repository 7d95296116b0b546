"""WDSR-A and WDSR-B (Yu et al., 2018): wide-activation residual networks with a two-branch tail."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm as _weight_norm

from ...nn import UpsampleTail, WideActBlockA, WideActBlockB, fold_weight_norm
from ..base import SRNet
from ..blocks import DIV2K_RGB_MEAN, conv
from ..registry import register


class WDSR(SRNet):
    """head conv -> wide-activation blocks -> tail conv to ``3 scale^2``; a 5x5 skip conv from the
    input to ``3 scale^2``; both branches are summed before one fused pixel-shuffle tail that also
    adds the RGB mean back (``srkit.nn.UpsampleTail``). Inputs are normalised as (x - mean) / 0.5.
    """

    def __init__(
        self,
        scale: int,
        block: str,
        channels: int = 32,
        blocks: int = 16,
        expansion: int = 4,
        low_rank: float = 0.8,
        res_scale: float = 1.0,
        kernel_size: int = 3,
        weight_norm: bool = True,
        in_channels: int = 3,
    ) -> None:
        super().__init__(scale, in_channels)
        mean = DIV2K_RGB_MEAN if in_channels == 3 else (0.5,) * in_channels
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        out = in_channels * scale * scale
        self.head = conv(in_channels, channels, 3)
        if block == "a":
            body = [WideActBlockA(channels, expansion, res_scale, kernel_size, weight_norm) for _ in range(blocks)]
        elif block == "b":
            body = [
                WideActBlockB(channels, expansion, low_rank, res_scale, kernel_size, weight_norm) for _ in range(blocks)
            ]
        else:
            raise ValueError(f"WDSR block must be 'a' or 'b', not {block!r}")
        self.body = nn.Sequential(*body)
        self.tail_conv = conv(channels, out, 3)
        self.skip = conv(in_channels, out, 5)
        if weight_norm:
            for m in (self.head, self.tail_conv, self.skip):
                _weight_norm(m)
        self.tail = UpsampleTail(scale, mean=mean)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean.to(x.dtype)) * 2.0
        y = self.tail_conv(self.body(self.head(x))) + self.skip(x)
        return self.tail(y * 0.5)

    def fold_weight_norm(self) -> WDSR:
        """Plain weights for inference (every block and the head, tail and skip convolutions)."""
        return fold_weight_norm(self)


@register("wdsr_a", scales=(2, 3, 4))
def wdsr_a(
    scale: int = 4,
    channels: int = 32,
    blocks: int = 16,
    expansion: int = 4,
    res_scale: float = 1.0,
    kernel_size: int = 3,
    weight_norm: bool = True,
) -> WDSR:
    """WDSR-A: 3x3 widen (x4) - ReLU - 3x3 blocks with weight norm (Yu et al. 2018)."""
    return WDSR(scale, "a", channels, blocks, expansion, 0.8, res_scale, kernel_size, weight_norm)


@register("wdsr_b", scales=(2, 3, 4))
def wdsr_b(
    scale: int = 4,
    channels: int = 32,
    blocks: int = 16,
    expansion: int = 6,
    low_rank: float = 0.8,
    res_scale: float = 1.0,
    kernel_size: int = 3,
    weight_norm: bool = True,
) -> WDSR:
    """WDSR-B: 1x1 widen (x6) - ReLU - 1x1 low-rank (0.8) - 3x3 blocks with weight norm (Yu et al. 2018)."""
    return WDSR(scale, "b", channels, blocks, expansion, low_rank, res_scale, kernel_size, weight_norm)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "wdsr_a": {"scale": 2, "channels": 8, "blocks": 2},
    "wdsr_b": {"scale": 3, "channels": 8, "blocks": 2, "weight_norm": False},
}
