"""Small building blocks shared by several zoo models (convolutions, mean shift, upsamplers, ESA)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import PixelShuffle

DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


def conv(cin: int, cout: int, k: int, *, bias: bool = True, groups: int = 1, stride: int = 1) -> nn.Conv2d:
    """A k x k convolution with 'same' padding."""
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=bias, groups=groups)


def activation(name: str, channels: int = 1, slope: float = 0.05) -> nn.Module:
    """relu | lrelu (negative slope ``slope``) | prelu (``channels`` parameters, init 0.25) | gelu | silu | tanh."""
    name = name.lower()
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "lrelu":
        return nn.LeakyReLU(slope, inplace=True)
    if name == "prelu":
        return nn.PReLU(channels)
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU(inplace=True)
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {name!r} (relu, lrelu, prelu, gelu, silu, tanh)")


class MeanShift(nn.Module):
    """Adds ``sign * mean * range`` per RGB channel, stored as a fixed 1x1 convolution (``shifter``) so
    that checkpoints which keep it that way (CARN) load; the weights are buffers, not parameters."""

    def __init__(self, mean: Sequence[float] = DIV2K_RGB_MEAN, sign: float = -1.0, value_range: float = 1.0) -> None:
        super().__init__()
        self.shifter = nn.Module()
        self.shifter.register_buffer("weight", torch.eye(3).view(3, 3, 1, 1))
        self.shifter.register_buffer("bias", sign * value_range * torch.tensor(mean, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.shifter.weight.to(x.dtype), self.shifter.bias.to(x.dtype))


def pixelshuffle_head(cin: int, cout: int, scale: int, k: int = 3) -> nn.Sequential:
    """conv(cin -> cout * scale^2) then a pixel shuffle: the one-step sub-pixel upsampler
    (keys ``0.weight`` / ``0.bias`` as in IMDN, RFDN, RLFN and SPAN checkpoints)."""
    return nn.Sequential(conv(cin, cout * scale * scale, k), PixelShuffle(scale))


def steps_of(scale: int) -> list[int]:
    """x2 steps for powers of two, one x3 step for 3 (EDSR's upsampler)."""
    if scale == 3:
        return [3]
    if scale >= 2 and scale & (scale - 1) == 0:
        return [2] * (scale.bit_length() - 1)
    raise ValueError(f"this upsampler supports scale 3 and powers of two, not {scale}")


class Upsampler(nn.Sequential):
    """EDSR's progressive sub-pixel upsampler: (conv k x k to r^2 n_feats, pixel shuffle r[, act]) per step."""

    def __init__(self, scale: int, n_feats: int, *, k: int = 3, act: str | None = None, groups: int = 1) -> None:
        layers: list[nn.Module] = []
        for r in steps_of(scale):
            layers.append(conv(n_feats, r * r * n_feats, k, groups=groups))
            if act is not None:
                layers.append(activation(act, n_feats * r * r if act == "prelu" else 1))
            layers.append(PixelShuffle(r))
        super().__init__(*layers)


class ESA(nn.Module):
    """Enhanced spatial attention (RFDN): a strided, max-pooled low-resolution branch gates x.

    ``esa_channels`` is the width of the branch; ``light`` drops the conv_max / conv3_ pair (RLFN's
    variant). Needs inputs of at least 15 x 15 (a stride-2 3x3 conv, then a 7x7 max pool).
    """

    def __init__(self, channels: int, esa_channels: int, *, light: bool = False) -> None:
        super().__init__()
        f = esa_channels
        self.light = light
        self.conv1 = nn.Conv2d(channels, f, 1)
        self.conv_f = nn.Conv2d(f, f, 1)
        if not light:
            self.conv_max = conv(f, f, 3)
            self.conv3_ = conv(f, f, 3)
        self.conv2 = nn.Conv2d(f, f, 3, stride=2, padding=0)
        self.conv3 = conv(f, f, 3)
        self.conv4 = nn.Conv2d(f, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1_ = self.conv1(x)
        c1 = F.max_pool2d(self.conv2(c1_), kernel_size=7, stride=3)
        if self.light:
            c3 = self.conv3(c1)
        else:
            c3 = self.conv3_(F.relu(self.conv3(F.relu(self.conv_max(c1)))))
        c3 = F.interpolate(c3, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.conv4(c3 + self.conv_f(c1_)))
