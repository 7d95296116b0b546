"""BSRN (Li et al., NTIRE 2022 ESR): blueprint-separable residual network (the BSRN-S entry by default)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import SRNet
from ..blocks import pixelshuffle_head
from ..registry import register


class Pointwise(nn.Module):
    """A 1x1 convolution whose weight is stored (out, in), as ``nn.Linear`` keeps it in BSRN's files,
    applied channels-first without permuting the feature map."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight[:, :, None, None], self.bias)


class BSConvU(nn.Module):
    """Blueprint-separable conv: pointwise, then depthwise k x k."""

    def __init__(self, cin: int, cout: int, k: int = 3) -> None:
        super().__init__()
        self.pw = Pointwise(cin, cout)
        self.dw = nn.Conv2d(cout, cout, k, padding=k // 2, groups=cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dw(self.pw(x))


class BSESA(nn.Module):
    """ESA built from blueprint-separable convs and GELU (BSRN's variant)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        f = channels // 4
        self.conv1, self.conv_f, self.conv4 = Pointwise(channels, f), Pointwise(f, f), Pointwise(f, channels)
        self.conv_max, self.conv3, self.conv3_ = BSConvU(f, f), BSConvU(f, f), BSConvU(f, f)
        self.conv2 = nn.Conv2d(f, f, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1_ = self.conv1(x)
        c1 = F.max_pool2d(self.conv2(c1_), kernel_size=7, stride=3)
        c3 = self.conv3_(F.gelu(self.conv3(F.gelu(self.conv_max(c1)))))
        c3 = F.interpolate(c3, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.conv4(c3 + self.conv_f(c1_)))


class ESDB(nn.Module):
    """BSRN's efficient separable distillation block (keys as the released file's ``RFDB``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        dc = channels // 2
        self.c1_d, self.c1_r = Pointwise(channels, dc), BSConvU(channels, channels)
        self.c2_d, self.c2_r = Pointwise(channels, dc), BSConvU(channels, channels)
        self.c3_d, self.c3_r = Pointwise(channels, dc), BSConvU(channels, channels)
        self.c4 = BSConvU(channels, dc)
        self.c5 = Pointwise(dc * 4, channels)
        self.esa = BSESA(channels)
        self.cw = nn.Parameter(torch.normal(1.0, 0.2, size=(1, channels)))
        self.conv_out = Pointwise(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept, r = [], x
        for d, c in ((self.c1_d, self.c1_r), (self.c2_d, self.c2_r), (self.c3_d, self.c3_r)):
            kept.append(F.gelu(d(r)))
            r = F.gelu(c(r) + r)
        kept.append(F.gelu(self.c4(r)))
        y = self.esa(self.c5(torch.cat(kept, dim=1))) * self.cw[:, :, None, None]
        return self.conv_out(y) + x


class _OneStep(nn.Module):
    def __init__(self, channels: int, out: int, scale: int) -> None:
        super().__init__()
        self.upsampleOneStep = pixelshuffle_head(channels, out, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsampleOneStep(x)


class BSRN(SRNet):
    min_size = 15

    def __init__(self, scale: int, channels: int = 48, blocks: int = 5, in_channels: int = 3) -> None:
        super().__init__(scale, in_channels)
        self.blocks = blocks
        self.fea_conv = BSConvU(in_channels * 4, channels)
        for i in range(blocks):
            self.add_module(f"B{i + 1}", ESDB(channels))
        self.c1 = Pointwise(channels * blocks, channels)
        self.c2 = BSConvU(channels, channels)
        self.upsampler = _OneStep(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.fea_conv(torch.cat([x] * 4, dim=1))
        outs, y = [], f
        for i in range(self.blocks):
            y = getattr(self, f"B{i + 1}")(y)
            outs.append(y)
        return self.upsampler(self.c2(F.gelu(self.c1(torch.cat(outs, dim=1)))) + f)


@register(
    "bsrn", scales=(2, 3, 4), paper_params=(({"scale": 4}, 156_288, 1, "BSRN-S NTIRE 2022 entry (official file)"),)
)
def bsrn(scale: int = 4, channels: int = 48, blocks: int = 5, in_channels: int = 3) -> BSRN:
    """BSRN-S: blueprint-separable distillation blocks (Li et al. 2022); the paper's BSRN is channels=64, blocks=8."""
    return BSRN(scale, channels, blocks, in_channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "bsrn": {"scale": 2, "channels": 8, "blocks": 2},
}
