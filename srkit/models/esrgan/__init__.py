"""The ESRGAN family: ``RRDBNet`` (ESRGAN, Wang et al. ECCVW 2018; Real-ESRGAN x4plus / x2plus, Wang
et al. ICCVW 2021) and ``SRVGGNetCompact`` (Real-ESRGAN's compact network).

Module names follow BasicSR's layout (``conv_first``, ``body.N.rdbM.convK``, ``conv_body``,
``conv_up1/2``, ``conv_hr``, ``conv_last``; SRVGG's ``body.N``), which Real-ESRGAN releases; the
older ESRGAN layouts are renamed on load (:mod:`.detect`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...nn import PixelUnshuffle, UpsampleTail
from ..base import SRNet
from ..registry import register


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convs, each seeing the block input and every earlier output; 0.2-scaled residual."""

    def __init__(self, channels: int = 64, growth: int = 32) -> None:
        super().__init__()
        for i in range(5):
            cout = channels if i == 4 else growth
            setattr(self, f"conv{i + 1}", nn.Conv2d(channels + i * growth, cout, 3, padding=1))
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i in range(1, 5):
            feats.append(self.lrelu(getattr(self, f"conv{i}")(torch.cat(feats, 1))))
        return x + 0.2 * self.conv5(torch.cat(feats, 1))


class RRDB(nn.Module):
    """Residual in residual dense block: three dense blocks and a 0.2-scaled residual."""

    def __init__(self, channels: int = 64, growth: int = 32) -> None:
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = (ResidualDenseBlock(channels, growth) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBNet(SRNet):
    """ESRGAN's generator. Below x4 the input is pixel-unshuffled first (Real-ESRGAN x2plus: x2 by a
    x4 body on a 2x unshuffled input; x1 likewise by 4), so the body always upsamples x4 with two
    nearest-neighbour steps and a conv each."""

    def __init__(
        self, scale: int = 4, channels: int = 64, blocks: int = 23, growth: int = 32, in_channels: int = 3
    ) -> None:
        super().__init__(scale, in_channels)
        if scale not in (1, 2, 4):
            raise ValueError(f"RRDBNet: scale {scale} is not one of 1, 2, 4")
        self.unshuffle = {1: 4, 2: 2, 4: 1}[scale]
        self.pixel_unshuffle = PixelUnshuffle(self.unshuffle) if self.unshuffle > 1 else None
        self.conv_first = nn.Conv2d(in_channels * self.unshuffle**2, channels, 3, padding=1)
        self.body = nn.Sequential(*(RRDB(channels, growth) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_up1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_up2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_hr = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv_last = nn.Conv2d(channels, in_channels, 3, padding=1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)
        # the unshuffle needs sides divisible by its factor; Upscaler pads to it
        self.size_multiple = self.unshuffle

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv_first(self.pixel_unshuffle(x) if self.pixel_unshuffle is not None else x)
        f = f + self.conv_body(self.body(f))
        f = self.lrelu(self.conv_up1(F.interpolate(f, scale_factor=2, mode="nearest")))
        f = self.lrelu(self.conv_up2(F.interpolate(f, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(f)))


class SRVGGNetCompact(SRNet):
    """A plain chain of 3x3 convs with PReLU (or ReLU / LeakyReLU) at LR resolution, a sub-pixel
    tail, and the nearest-upsampled input added: the tail and the add run as one fused
    :class:`srkit.nn.UpsampleTail` call."""

    def __init__(
        self, scale: int = 4, channels: int = 64, convs: int = 32, act: str = "prelu", in_channels: int = 3
    ) -> None:
        super().__init__(scale, in_channels)
        if act not in ("prelu", "relu", "lrelu"):
            raise ValueError(f"SRVGGNetCompact: act {act!r} is not prelu, relu or lrelu")
        self.act = act
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, padding=1), self._act(channels)]
        for _ in range(convs):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), self._act(channels)]
        layers.append(nn.Conv2d(channels, in_channels * scale * scale, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.tail = UpsampleTail(scale)

    def _act(self, channels: int) -> nn.Module:
        if self.act == "prelu":
            return nn.PReLU(num_parameters=channels)
        return nn.ReLU(inplace=True) if self.act == "relu" else nn.LeakyReLU(0.1, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(x), skip=F.interpolate(x, scale_factor=self.scale, mode="nearest"))


@register(
    "rrdbnet",
    scales=(1, 2, 4),
    paper_params=(({"scale": 4}, 16697987, 1, "ESRGAN / Real-ESRGAN x4plus: 16,697,987 (RRDB_ESRGAN_x4.pth)"),),
)
def rrdbnet(scale: int = 4, channels: int = 64, blocks: int = 23, growth: int = 32, in_channels: int = 3) -> RRDBNet:
    """RRDBNet: ESRGAN's 23 residual-in-residual dense blocks, 64 channels (Wang et al. 2018; Real-ESRGAN)."""
    return RRDBNet(scale, channels, blocks, growth, in_channels)


@register("srvgg_compact", scales=(1, 2, 3, 4))  # realesr-general-x4v3: convs=32; realesr-animevideov3: convs=16
def srvgg_compact(
    scale: int = 4, channels: int = 64, convs: int = 32, act: str = "prelu", in_channels: int = 3
) -> SRVGGNetCompact:
    """SRVGGNetCompact: Real-ESRGAN's compact net, 32 PReLU 3x3 convs at 64 channels, sub-pixel tail + nearest skip."""
    return SRVGGNetCompact(scale, channels, convs, act, in_channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "rrdbnet": {"scale": 4, "channels": 8, "blocks": 1, "growth": 4},
    "srvgg_compact": {"scale": 4, "channels": 8, "convs": 2},
}
