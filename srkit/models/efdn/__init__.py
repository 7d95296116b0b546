"""EFDN (Wang, NTIRE 2022 ESR): edge-enhanced feature distillation network, deployed form."""

from __future__ import annotations

import torch
from torch import nn

from ..base import SRNet
from ..blocks import ESA, conv, pixelshuffle_head
from ..registry import register


class _ConvAct(nn.Module):
    def __init__(self, channels: int, k: int, name: str) -> None:
        super().__init__()
        self.add_module(name, conv(channels, channels, k))
        self.act = nn.PReLU(channels)
        self._name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(getattr(self, self._name)(x))


class EFDNCell(nn.Module):
    """1x1 -> 3x3 -> 3x3 (PReLU each; the 3x3s are the re-parameterised edge blocks); the input and
    each stage are narrowed by a 1x1 branch, fused, gated by ESA, plus the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _ConvAct(channels, 1, "conv1x1")
        self.conv2 = _ConvAct(channels, 3, "rep_conv")
        self.conv3 = _ConvAct(channels, 3, "rep_conv")
        self.fuse = nn.Conv2d(channels * 2, channels, 1)
        self.att = ESA(channels, channels // 4)
        self.branch = nn.ModuleList(nn.Conv2d(channels, channels // 2, 1) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o1 = self.conv1(x)
        o2 = self.conv2(o1)
        o3 = self.conv3(o2)
        y = self.fuse(torch.cat([b(t) for b, t in zip(self.branch, (x, o1, o2, o3), strict=True)], dim=1))
        return self.att(y) + x


class EFDN(SRNet):
    min_size = 15

    def __init__(self, scale: int, channels: int = 48, in_channels: int = 3) -> None:
        super().__init__(scale, in_channels)
        self.head = conv(in_channels, channels, 3)
        self.cells = nn.ModuleList(EFDNCell(channels) for _ in range(4))
        self.local_fuse = nn.ModuleList(nn.Conv2d(channels * 2, channels, 1) for _ in range(3))
        self.tail = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o0 = self.head(x)
        o1 = self.cells[0](o0)
        o2 = self.cells[1](o1)
        o3 = self.cells[2](self.local_fuse[0](torch.cat([o1, o2], 1)))
        o4 = self.cells[3](self.local_fuse[1](torch.cat([o2, o3], 1)))
        # the released network fuses (o2, o4) last, not (o3, o4)
        return self.tail(self.local_fuse[2](torch.cat([o2, o4], 1)) + o0)


@register("efdn", scales=(2, 3, 4), paper_params=(({"scale": 4}, 276_192, 1, "EFDN NTIRE 2022 entry (official file)"),))
def efdn(scale: int = 4, channels: int = 48, in_channels: int = 3) -> EFDN:
    """EFDN: four distillation cells with ESA and cross-cell fusion, deployed form (Wang 2022)."""
    return EFDN(scale, channels, in_channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "efdn": {"scale": 2, "channels": 8},
}
