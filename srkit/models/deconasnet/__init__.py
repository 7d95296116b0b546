"""DeCoNASNet (Ahn & Cho, 2021): densely connected blocks whose connections come from a genotype.

A genotype is JSON-serialisable: ``[[layer, ...], ...]`` with one list per block and, per layer, the
list of nodes it reads (0 is the block's input, ``j`` the output of the block's layer ``j``, so
layer ``i`` (1-based) may read 0..i-1). DeCoNAS's search (srkit.search) writes such lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..base import SRNet
from ..blocks import conv, pixelshuffle_head
from ..registry import register

Genotype = list[list[list[int]]]


def dense_genotype(blocks: int = 4, layers: int = 4) -> Genotype:
    """Every layer reads every earlier node: the fully dense member of the space."""
    return [[list(range(i)) for i in range(1, layers + 1)] for _ in range(blocks)]


def check_genotype(genotype: Sequence[Sequence[Sequence[int]]]) -> Genotype:
    """The genotype as plain lists, or a ValueError naming the first bad block/layer."""
    out: Genotype = []
    if not genotype:
        raise ValueError("DeCoNASNet genotype: no blocks")
    for b, block in enumerate(genotype):
        if not block:
            raise ValueError(f"DeCoNASNet genotype: block {b} has no layers")
        layers = []
        for i, inputs in enumerate(block, start=1):
            ins = sorted({int(j) for j in inputs})
            if not ins or ins[0] < 0 or ins[-1] >= i:
                raise ValueError(
                    f"DeCoNASNet genotype: block {b} layer {i} reads {list(inputs)}; "
                    f"it must read a non-empty subset of nodes 0..{i - 1}"
                )
            layers.append(ins)
        out.append(layers)
    return out


class DenseBlock(nn.Module):
    """Layer i: 1x1 over the concatenation of the nodes it reads (when more than one), 3x3, ReLU.
    The block's output fuses all layer outputs with a 1x1 and adds the input."""

    def __init__(self, channels: int, layers: list[list[int]]) -> None:
        super().__init__()
        self.inputs = layers
        self.reduce = nn.ModuleList(
            nn.Conv2d(channels * len(ins), channels, 1) if len(ins) > 1 else nn.Identity() for ins in layers
        )
        self.convs = nn.ModuleList(nn.Sequential(conv(channels, channels, 3), nn.ReLU(inplace=True)) for _ in layers)
        self.fuse = nn.Conv2d(channels * len(layers), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for ins, red, c in zip(self.inputs, self.reduce, self.convs, strict=True):
            nodes.append(c(red(torch.cat([nodes[j] for j in ins], dim=1))))
        return self.fuse(torch.cat(nodes[1:], dim=1)) + x


class DeCoNASNet(SRNet):
    def __init__(
        self,
        scale: int,
        genotype: Sequence[Sequence[Sequence[int]]] | None = None,
        channels: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__(scale, in_channels)
        self.genotype = check_genotype(genotype if genotype is not None else dense_genotype())
        self.sfe = conv(in_channels, channels, 3)
        self.blocks = nn.ModuleList(DenseBlock(channels, g) for g in self.genotype)
        self.fusion = nn.Sequential(nn.Conv2d(channels * len(self.genotype), channels, 1), conv(channels, channels, 3))
        self.upsampler = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.sfe(x)
        outs, y = [], f
        for blk in self.blocks:
            y = blk(y)
            outs.append(y)
        return self.upsampler(self.fusion(torch.cat(outs, dim=1)) + f)


@register("deconasnet", scales=(2, 3, 4))
def deconasnet(
    scale: int = 4, genotype: Sequence[Sequence[Sequence[int]]] | None = None, channels: int = 64
) -> DeCoNASNet:
    """DeCoNASNet: shallow features, densely connected blocks from a genotype, fusion, sub-pixel tail."""
    return DeCoNASNet(scale, genotype, channels)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {}
# models whose weights do not hold every hyper-parameter: srkit's metadata is their only record
UNDETECTABLE: dict[str, str] = {
    "deconasnet": "a searched genotype: the chosen operations are not all in the weights",
}
