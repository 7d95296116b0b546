"""CARN and CARN-M (Ahn et al., ECCV 2018): cascading residual networks."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import PixelShuffle
from ..base import SRNet
from ..blocks import MeanShift, conv, steps_of
from ..registry import register


class _ConvReLU(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResidualUnit(nn.Module):
    """relu(x + body(x)). CARN: conv3 - relu - conv3. CARN-M (efficient): grouped conv3 - relu -
    grouped conv3 - relu - conv1."""

    def __init__(self, channels: int, groups: int = 1, efficient: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            conv(channels, channels, 3, groups=groups),
            nn.ReLU(inplace=True),
            conv(channels, channels, 3, groups=groups),
        ]
        if efficient:
            layers += [nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + x)


def cascade(x: torch.Tensor, units: list[nn.Module], fuses: list[nn.Module]) -> torch.Tensor:
    """CARN's cascading: each unit's output joins the concatenation of all before it; a 1x1 fuses."""
    cat, o = x, x
    for unit, fuse in zip(units, fuses, strict=True):
        cat = torch.cat([cat, unit(o)], dim=1)
        o = fuse(cat)
    return o


class Cascade(nn.Module):
    """Three units whose outputs are concatenated with everything before them and fused by 1x1 convs.

    ``units`` are three modules (CARN's block) or one module applied three times (CARN-M's
    weight-shared block, which names it ``b1``).
    """

    def __init__(self, channels: int, units: list[nn.Module]) -> None:
        super().__init__()
        for i, u in enumerate(units):
            self.add_module(f"b{i + 1}", u)
        self.shared = len(units) == 1
        self.c1, self.c2, self.c3 = (_ConvReLU(channels * k, channels) for k in (2, 3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        units = [self.b1] * 3 if self.shared else [self.b1, self.b2, self.b3]
        return cascade(x, units, [self.c1, self.c2, self.c3])


class _Up(nn.Module):
    def __init__(self, channels: int, scale: int, groups: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for r in steps_of(scale):
            layers += [conv(channels, r * r * channels, 3, groups=groups), nn.ReLU(inplace=True), PixelShuffle(r)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class CARN(SRNet):
    """``scales``: the upsampling heads to hold (the released files are multi-scale, x2/x3/x4 in
    one); ``scale`` picks the one ``forward`` uses."""

    def __init__(
        self,
        scale: int,
        channels: int = 64,
        mobile: bool = False,
        groups: int | None = None,
        scales: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(scale, 3)
        scales = tuple(scales or (scale,))
        if scale not in scales:
            raise ValueError(f"CARN: scale {scale} is not among its heads {scales}")
        groups = groups if groups is not None else (4 if mobile else 1)
        self.sub_mean = MeanShift(sign=-1.0)
        self.add_mean = MeanShift(sign=1.0)
        self.entry = conv(3, channels, 3)

        def block() -> Cascade:
            if mobile:
                return Cascade(channels, [ResidualUnit(channels, groups, efficient=True)])
            return Cascade(channels, [ResidualUnit(channels) for _ in range(3)])

        self.b1, self.b2, self.b3 = block(), block(), block()
        self.c1, self.c2, self.c3 = (_ConvReLU(channels * k, channels) for k in (2, 3, 4))
        self.upsample = nn.Module()
        for s in scales:
            self.upsample.add_module(f"up{s}", _Up(channels, s, groups))
        self.exit = conv(channels, 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = cascade(self.entry(self.sub_mean(x)), [self.b1, self.b2, self.b3], [self.c1, self.c2, self.c3])
        return self.add_mean(self.exit(getattr(self.upsample, f"up{self.scale}")(o)))


@register(
    "carn",
    scales=(2, 3, 4),
    paper_params=(({"scale": 2, "scales": (2, 3, 4)}, 1_592_000, 1000, "CARN, 1,592K (the multi-scale model)"),),
)
def carn(scale: int = 4, channels: int = 64, scales: tuple[int, ...] | None = None) -> CARN:
    """CARN: cascading residual network (Ahn et al. 2018); ``scales=(2, 3, 4)`` is the paper's multi-scale model."""
    return CARN(scale, channels, mobile=False, scales=scales)


@register(
    "carn_m",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 2, "scales": (2, 3, 4)}, 414_787, 1, "CARN-M official file (414,811 with its fixed mean shift)"),
    ),
)
def carn_m(scale: int = 4, channels: int = 64, groups: int = 4, scales: tuple[int, ...] | None = None) -> CARN:
    """CARN-M: the mobile CARN with grouped, weight-shared efficient residual units (Ahn et al. 2018)."""
    return CARN(scale, channels, mobile=True, groups=groups, scales=scales)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "carn": {"scale": 2, "channels": 8},
    "carn_m": {"scale": 3, "channels": 8, "groups": 2},
}
