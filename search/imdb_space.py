"""Search space 2: the IMDB multi-path supernet.

Every block position chooses an IMDB path (:mod:`srkit.models.imdb_path`): which of its ``n`` 3x3
stages distil (split off ``distill`` x width channels) and which pass everything on, at one of the
distillation rates, with or without CCA before the 1x1 fusion.

* ``paths="five"``: the five prefix paths of four stages (``0000``, ``1000``, ``1100``, ``1110``,
  ``1111``: distil in the first k stages, k = 0..4);
* ``paths="dynamic"``: all 2^n bit patterns of ``n`` stages (n = 3: IMDN's ``111`` and seven others).

``shared=True`` builds the supernet with one set of stage, last and fusion weights per position and
rate, shared by all paths (a path slices the input channels it gets; the fusion takes the columns of
the pieces the path keeps; CCA stays per path); ``shared=False`` gives every path its own weights
(the plain :class:`~srkit.search.supernet.Supernet`). Either way a path's subnet is an exact BlockNet.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from srkit.models.catalog import BlockSpec
from srkit.models.imdb_path import path_cca, path_forward, split_widths, stage_inputs

from .space import BlockSpace
from .supernet import Supernet

PATH_SETS = ("five", "dynamic")


def imdb_paths(kind: str = "dynamic", stages: int = 3) -> list[str]:
    if kind == "five":
        return ["1" * k + "0" * (4 - k) for k in range(5)]
    if kind == "dynamic":
        if not 1 <= stages <= 8:
            raise ValueError(f"IMDB space: stages must be 1..8, got {stages}")
        return ["".join(bits) for bits in itertools.product("01", repeat=stages)]
    raise ValueError(f"IMDB space: paths {kind!r} is not one of {', '.join(PATH_SETS)}")


def imdb_space(scale: int = 4, channels: tuple[int, ...] = (32,), min_blocks: int = 2, max_blocks: int = 6,
               paths: str = "dynamic", stages: int = 3, distill: tuple[float, ...] = (0.25,),
               attention: tuple[str, ...] = ("none", "cca")) -> BlockSpace:
    """The block space whose candidates are IMDB paths x rates x attention."""
    cands = tuple(BlockSpec("imdb_path", path=p, distill=d, attention=a)
                  for p in imdb_paths(paths, stages) for d in distill for a in attention)
    return BlockSpace(scale, channels, min_blocks, max_blocks, cands)


class PathBank(nn.Module):
    """One position's shared weights for every IMDB path of one stage count and rate."""

    def __init__(self, channels: int, stages: int, distill: float, specs: list[BlockSpec], slope: float = 0.05) -> None:
        super().__init__()
        self.channels, self.slope = channels, slope
        self.dc, self.rc = split_widths(channels, distill)
        self.stages = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(stages))
        self.last = nn.Conv2d(channels, self.dc, 3, padding=1)
        self.fuse = nn.Conv2d(self.dc * (stages + 1), channels, 1)  # column block i: the piece stage i keeps
        self.cca = nn.ModuleDict({s.path: path_cca(self.dc * (s.path.count("1") + 1))
                                  for s in specs if s.attention == "cca"})

    def weights(self, spec: BlockSpec) -> dict[str, torch.Tensor]:
        """The path's weights as an :class:`IMDBPath` state dict (views into the shared tensors)."""
        widths = stage_inputs(spec.path, self.channels, self.rc)
        out: dict[str, torch.Tensor] = {}
        for i, (conv, w) in enumerate(zip(self.stages, widths[:-1], strict=True)):
            out[f"stages.{i}.weight"], out[f"stages.{i}.bias"] = conv.weight[:, :w], conv.bias
        out["last.weight"], out["last.bias"] = self.last.weight[:, :widths[-1]], self.last.bias
        kept = [i for i, bit in enumerate(spec.path) if bit == "1"] + [len(spec.path)]
        cols = torch.cat([self.fuse.weight[:, i * self.dc:(i + 1) * self.dc] for i in kept], dim=1)
        out["fuse.weight"], out["fuse.bias"] = cols, self.fuse.bias
        if spec.attention == "cca":
            out |= {f"cca.{k}": v for k, v in self.cca[spec.path].state_dict(keep_vars=True).items()}
        return out

    def forward(self, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
        w = {k: v.contiguous() for k, v in self.weights(spec).items()}
        stages = [(w[f"stages.{i}.weight"], w[f"stages.{i}.bias"]) for i in range(len(spec.path))]
        return path_forward(x, spec.path, self.dc, stages, (w["last.weight"], w["last.bias"]), (w["fuse.weight"], w["fuse.bias"]),
                            self.cca[spec.path] if spec.attention == "cca" else None, self.slope)


class SharedIMDBSupernet(Supernet):
    """The IMDB multi-path supernet with shared weights (see the module's notes)."""

    def __init__(self, space: BlockSpace, channels: int) -> None:
        nn.Module.__init__(self)
        if any(c.type != "imdb_path" for c in space.candidates):
            raise ValueError("SharedIMDBSupernet: every candidate must be an imdb_path block")
        if len({len(c.path) for c in space.candidates}) != 1:
            raise ValueError("SharedIMDBSupernet: all paths must have the same number of stages")
        if channels not in space.channels:
            raise ValueError(f"SharedIMDBSupernet: width {channels} is not one of the space's {space.channels}")
        from srkit.models.blocks import conv, pixelshuffle_head  # noqa: PLC0415

        self.space, self.channels, self.scale = space, channels, space.scale
        self.head = conv(3, channels, 3)
        rates = sorted({c.distill for c in space.candidates})
        n = len(space.candidates[0].path)
        self.banks = nn.ModuleList(
            nn.ModuleDict({f"{r:g}".replace(".", "_"): PathBank(channels, n, r, [c for c in space.candidates if c.distill == r])
                           for r in rates}) for _ in range(space.max_blocks))
        self.body_conv = conv(channels, channels, 3)
        self.tail = pixelshuffle_head(channels, 3, space.scale)

    def _bank(self, i: int, spec: BlockSpec) -> PathBank:
        return self.banks[i][f"{spec.distill:g}".replace(".", "_")]  # type: ignore[return-value]

    def run_block(self, i: int, spec: BlockSpec, y: torch.Tensor) -> torch.Tensor:
        return self._bank(i, spec)(y, spec)

    def block_state(self, i: int, spec: BlockSpec) -> dict[str, torch.Tensor]:
        return self._bank(i, spec).weights(spec)


def make_supernet(space: BlockSpace, channels: int, shared: bool) -> Supernet:
    return SharedIMDBSupernet(space, channels) if shared else Supernet(space, channels)
