"""DeCoNAS's densely connected space (space 4 of the search issue) and its weight-sharing supernet.

A genotype (:mod:`srkit.models.deconasnet`) gives, for each layer of each dense block, the earlier
nodes it reads (0 is the block input). The supernet holds, per layer, one 1x1 reduction over *all*
earlier nodes; a genotype's layer uses the columns of the nodes it reads (and no reduction when it
reads one node, as DeCoNASNet does), so :meth:`DenseSupernet.subnet` is an exact DeCoNASNet.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from srkit.models.blocks import conv, pixelshuffle_head
from srkit.models.deconasnet import DeCoNASNet, Genotype, check_genotype


@dataclass(frozen=True)
class DenseSpace:
    scale: int = 4
    blocks: int = 4
    layers: int = 4
    channels: int = 32

    def size(self) -> int:
        """Each layer i (1-based) reads a non-empty subset of i nodes: prod (2^i - 1), per block."""
        per_block = math.prod(2**i - 1 for i in range(1, self.layers + 1))
        return per_block**self.blocks

    def sample(self, rng: random.Random) -> Genotype:
        g: Genotype = []
        for _ in range(self.blocks):
            block = []
            for i in range(1, self.layers + 1):
                ins: list[int] = []
                while not ins:
                    ins = [j for j in range(i) if rng.random() < 0.5]
                block.append(ins)
            g.append(block)
        return g

    def validate(self, genotype: Any) -> Genotype:
        g = check_genotype(genotype)
        if len(g) != self.blocks or any(len(b) != self.layers for b in g):
            raise ValueError(
                f"genotype has {len(g)} blocks of {[len(b) for b in g]} layers; the space has "
                f"{self.blocks} blocks of {self.layers}"
            )
        return g

    def as_dict(self) -> dict[str, Any]:
        return {
            "space": "dense",
            "scale": self.scale,
            "blocks": self.blocks,
            "layers": self.layers,
            "channels": self.channels,
            "size": self.size(),
        }


def key(genotype: Genotype) -> str:
    return "|".join(";".join(",".join(map(str, ins)) for ins in block) for block in genotype)


class _SharedBlock(nn.Module):
    def __init__(self, channels: int, layers: int) -> None:
        super().__init__()
        self.reduce = nn.ModuleList(nn.Conv2d(channels * i, channels, 1) for i in range(1, layers + 1))
        self.convs = nn.ModuleList(
            nn.Sequential(conv(channels, channels, 3), nn.ReLU(inplace=True)) for _ in range(layers)
        )
        self.fuse = nn.Conv2d(channels * layers, channels, 1)
        self.channels = channels

    def reduce_weight(self, i: int, ins: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.channels
        w = self.reduce[i].weight
        return torch.cat([w[:, j * c : (j + 1) * c] for j in ins], dim=1), self.reduce[i].bias

    def forward(self, x: torch.Tensor, layers: list[list[int]]) -> torch.Tensor:
        nodes = [x]
        for i, ins in enumerate(layers):
            y = torch.cat([nodes[j] for j in ins], dim=1)
            if len(ins) > 1:
                y = F.conv2d(y, *self.reduce_weight(i, ins))
            nodes.append(self.convs[i](y))
        return self.fuse(torch.cat(nodes[1:], dim=1)) + x


class DenseSupernet(nn.Module):
    def __init__(self, space: DenseSpace) -> None:
        super().__init__()
        c = space.channels
        self.space = space
        self.sfe = conv(3, c, 3)
        self.blocks = nn.ModuleList(_SharedBlock(c, space.layers) for _ in range(space.blocks))
        self.fusion = nn.Sequential(nn.Conv2d(c * space.blocks, c, 1), conv(c, c, 3))
        self.upsampler = pixelshuffle_head(c, 3, space.scale)

    def forward(self, x: torch.Tensor, genotype: Genotype) -> torch.Tensor:
        g = self.space.validate(genotype)
        f = self.sfe(x)
        outs, y = [], f
        for blk, layers in zip(self.blocks, g, strict=True):
            y = blk(y, layers)
            outs.append(y)
        return self.upsampler(self.fusion(torch.cat(outs, dim=1)) + f)

    def subnet(self, genotype: Genotype) -> DeCoNASNet:
        """The genotype as a stand-alone DeCoNASNet with the shared weights (a copy)."""
        g = self.space.validate(genotype)
        net = DeCoNASNet(self.space.scale, g, self.space.channels)
        state = {k: v for k, v in self.state_dict().items() if not k.startswith("blocks.")}
        for b, (blk, layers) in enumerate(zip(self.blocks, g, strict=True)):
            for i, ins in enumerate(layers):
                if len(ins) > 1:
                    w, bias = blk.reduce_weight(i, ins)
                    state[f"blocks.{b}.reduce.{i}.weight"], state[f"blocks.{b}.reduce.{i}.bias"] = w, bias
                for k, v in blk.convs[i].state_dict().items():
                    state[f"blocks.{b}.convs.{i}.{k}"] = v
            for k, v in blk.fuse.state_dict().items():
                state[f"blocks.{b}.fuse.{k}"] = v
        net.load_state_dict({k: v.detach().clone() for k, v in state.items()})
        net.arch, net.hparams = (
            "deconasnet",
            {"scale": self.space.scale, "genotype": g, "channels": self.space.channels},
        )
        return net
