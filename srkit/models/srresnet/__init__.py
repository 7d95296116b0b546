"""SRResNet / SRGAN generator and the SRGAN discriminator (Ledig et al., CVPR 2017)."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import PixelShuffle
from ..base import SRNet
from ..blocks import activation, conv, steps_of
from ..registry import register


class SRResBlock(nn.Module):
    def __init__(self, channels: int, k: int, act: str, bn: bool) -> None:
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if bn else nn.Identity
        self.body = nn.Sequential(
            conv(channels, channels, k, bias=not bn),
            norm(),
            activation(act, channels),
            conv(channels, channels, k, bias=not bn),
            norm(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(SRNet):
    """9x9 head, ``blocks`` residual blocks (conv-BN-act-conv-BN), conv-BN with a long skip, sub-pixel
    x2 steps (conv, shuffle, act) and a 9x9 output conv."""

    def __init__(
        self,
        scale: int,
        blocks: int = 16,
        kernel_size: int = 3,
        channels: int = 64,
        act: str = "prelu",
        bn: bool = True,
        in_channels: int = 3,
    ) -> None:
        super().__init__(scale, in_channels)
        self.head = nn.Sequential(conv(in_channels, channels, 9), activation(act, channels))
        self.body = nn.Sequential(
            *(SRResBlock(channels, kernel_size, act, bn) for _ in range(blocks)),
            conv(channels, channels, kernel_size, bias=not bn),
            nn.BatchNorm2d(channels) if bn else nn.Identity(),
        )
        up: list[nn.Module] = []
        for r in steps_of(scale):
            up += [conv(channels, channels * r * r, kernel_size), PixelShuffle(r), activation(act, channels)]
        self.tail = nn.Sequential(*up, conv(channels, in_channels, 9))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.head(x)
        return self.tail(self.body(f) + f)


class MSRResNet(SRNet):
    """BasicSR's modified SRResNet (ESRGAN's PSNR baseline): no batch norm, EDSR-style residual blocks
    with no long skip, sub-pixel x2 steps (``upconv1`` / ``upconv2``) with LeakyReLU 0.1, ``conv_hr``
    and ``conv_last``, plus the bilinear-upsampled input. Module names are BasicSR's."""

    def __init__(self, scale: int, channels: int = 64, blocks: int = 16, in_channels: int = 3) -> None:
        super().__init__(scale, in_channels)
        if scale not in (2, 3, 4):
            raise ValueError(f"MSRResNet supports scale 2, 3 or 4, not {scale}")
        self.conv_first = conv(in_channels, channels, 3)
        self.body = nn.Sequential(*(PlainResBlock(channels) for _ in range(blocks)))
        r = 2 if scale == 4 else scale
        self.upconv1 = conv(channels, channels * r * r, 3)
        self.upconv2 = conv(channels, channels * 4, 3) if scale == 4 else None
        self.shuffle = PixelShuffle(r)
        self.conv_hr = conv(channels, channels, 3)
        self.conv_last = conv(channels, in_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = nn.functional.leaky_relu
        out = self.body(act(self.conv_first(x), 0.1))
        for up in (self.upconv1, self.upconv2):
            if up is not None:
                out = act(self.shuffle(up(out)), 0.1)
        base = nn.functional.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return self.conv_last(act(self.conv_hr(out), 0.1)) + base


class PlainResBlock(nn.Module):
    """conv1 - ReLU - conv2 plus the input (BasicSR's ResidualBlockNoBN names)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = conv(channels, channels, 3)
        self.conv2 = conv(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(torch.relu(self.conv1(x)))


class SRGANDiscriminator(nn.Module):
    """VGG-style critic: conv+LeakyReLU, then ``blocks`` pairs (conv stride 1, conv stride 2, each
    with BN and LeakyReLU 0.2) doubling the width after each pair, then global pooling and a
    two-layer head to one logit per image (any input size, unlike the paper's fixed 96x96 dense).
    ``act``: LeakyReLU 0.2 as in the paper, or relu / prelu / gelu / silu."""

    def __init__(
        self,
        blocks: int = 4,
        kernel_size: int = 3,
        channels: int = 64,
        act: str = "lrelu",
        in_channels: int = 3,
        head_width: int = 1024,
    ) -> None:
        super().__init__()
        k = kernel_size

        def a(c: int) -> nn.Module:
            return activation(act, c, slope=0.2)

        layers: list[nn.Module] = [
            conv(in_channels, channels, k),
            a(channels),
            conv(channels, channels, k, stride=2, bias=False),
            nn.BatchNorm2d(channels),
            a(channels),
        ]
        w = channels
        for _ in range(blocks - 1):
            layers += [
                conv(w, 2 * w, k, bias=False),
                nn.BatchNorm2d(2 * w),
                a(2 * w),
                conv(2 * w, 2 * w, k, stride=2, bias=False),
                nn.BatchNorm2d(2 * w),
                a(2 * w),
            ]
            w *= 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(w, head_width, 1), a(head_width), nn.Conv2d(head_width, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).flatten()


@register("srresnet", scales=(2, 3, 4, 8))
def srresnet(
    scale: int = 4, blocks: int = 16, kernel_size: int = 3, channels: int = 64, act: str = "prelu", bn: bool = True
) -> SRResNet:
    """SRResNet, the SRGAN generator: 16 residual blocks with batch norm and PReLU (Ledig et al. 2017)."""
    return SRResNet(scale, blocks, kernel_size, channels, act, bn)


@register(
    "msrresnet",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 4}, 1_517_571, 1, "MSRResNet x4 as BasicSR defines it (1.52M), counted from its layer shapes"),
    ),
)
def msrresnet(scale: int = 4, channels: int = 64, blocks: int = 16, in_channels: int = 3) -> MSRResNet:
    """MSRResNet: BasicSR's SRResNet without batch norm, 16 blocks, 64 channels, bilinear skip."""
    return MSRResNet(scale, channels, blocks, in_channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "msrresnet": {"scale": 4, "channels": 8, "blocks": 2},
    "srresnet": {"scale": 4, "blocks": 2, "channels": 8},
}
