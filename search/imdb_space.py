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
from srkit.models.imdb_path import Conv, path_cca, path_forward, split_widths, stage_inputs

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


def imdb_space(
    scale: int = 4,
    channels: tuple[int, ...] = (32,),
    min_blocks: int = 2,
    max_blocks: int = 6,
    paths: str = "dynamic",
    stages: int = 3,
    distill: tuple[float, ...] = (0.25,),
    attention: tuple[str, ...] = ("none", "cca"),
    upsamplers: tuple[str, ...] = ("direct",),
) -> BlockSpace:
    """The block space whose candidates are IMDB paths x rates x attention (IMDN's upsampler by default)."""
    cands = tuple(
        BlockSpec("imdb_path", path=p, distill=d, attention=a)
        for p in imdb_paths(paths, stages)
        for d in distill
        for a in attention
    )
    return BlockSpace(scale, channels, min_blocks, max_blocks, cands, upsamplers)


class PathBank(nn.Module):
    """One position's shared weights for every IMDB path of one stage count and rate."""

    def __init__(self, channels: int, stages: int, distill: float, specs: list[BlockSpec], slope: float = 0.05) -> None:
        super().__init__()
        self.channels, self.slope = channels, slope
        self.dc, self.rc = split_widths(channels, distill)
        self.stages = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(stages))
        self.last = nn.Conv2d(channels, self.dc, 3, padding=1)
        self.fuse = nn.Conv2d(self.dc * (stages + 1), channels, 1)  # column block i: the piece stage i keeps
        self.cca = nn.ModuleDict(
            {s.path: path_cca(self.dc * (s.path.count("1") + 1)) for s in specs if s.attention == "cca"}
        )

    def convs(self, spec: BlockSpec) -> tuple[list[Conv], Conv, Conv]:
        """The path's (stage convs, last conv, fusion) weights: slices of the shared tensors; the
        fusion's columns are gathered for the pieces the path keeps."""
        widths = stage_inputs(spec.path, self.channels, self.rc)
        stages = [(c.weight[:, :w], c.bias) for c, w in zip(self.stages, widths[:-1], strict=True)]
        kept = [i for i, bit in enumerate(spec.path) if bit == "1"] + [len(spec.path)]
        cols = torch.cat([self.fuse.weight[:, i * self.dc : (i + 1) * self.dc] for i in kept], dim=1)
        return stages, (self.last.weight[:, : widths[-1]], self.last.bias), (cols, self.fuse.bias)

    def weights(self, spec: BlockSpec) -> dict[str, torch.Tensor]:
        """The path's weights as an :class:`IMDBPath` state dict (views into the shared tensors)."""
        stages, last, fuse = self.convs(spec)
        out = {f"stages.{i}.{k}": t for i, (w, b) in enumerate(stages) for k, t in (("weight", w), ("bias", b))}
        out |= {"last.weight": last[0], "last.bias": last[1], "fuse.weight": fuse[0], "fuse.bias": fuse[1]}
        if spec.attention == "cca":
            out |= {f"cca.{k}": v for k, v in self.cca[spec.path].state_dict(keep_vars=True).items()}
        return out

    def forward(self, x: torch.Tensor, spec: BlockSpec) -> torch.Tensor:
        stages, last, fuse = self.convs(spec)
        return path_forward(
            x,
            spec.path,
            self.dc,
            stages,
            last,
            fuse,
            self.cca[spec.path] if spec.attention == "cca" else None,
            self.slope,
        )


class SharedIMDBSupernet(Supernet):
    """The IMDB multi-path supernet with shared weights (see the module's notes)."""

    def __init__(self, space: BlockSpace, channels: int | None = None) -> None:
        if channels is None and len(space.channels) > 1:
            raise ValueError(f"SharedIMDBSupernet: holds one width; choose one of {list(space.channels)}")
        if any(c.type != "imdb_path" for c in space.candidates):
            raise ValueError("SharedIMDBSupernet: every candidate must be an imdb_path block")
        if len({len(c.path) for c in space.candidates}) != 1:
            raise ValueError("SharedIMDBSupernet: all paths must have the same number of stages")
        super().__init__(space, channels)

    def build_choices(self, space: BlockSpace, channels: int) -> nn.ModuleList:
        """Per position, one :class:`PathBank` per distillation rate."""
        n = len(space.candidates[0].path)
        return nn.ModuleList(
            nn.ModuleDict(
                {
                    _key(r): PathBank(channels, n, r, [c for c in space.candidates if c.distill == r])
                    for r in sorted({c.distill for c in space.candidates})
                }
            )
            for _ in range(space.max_blocks)
        )

    def _bank(self, i: int, spec: BlockSpec) -> PathBank:
        return self.choices[i][_key(spec.distill)]  # type: ignore[return-value]

    def run_block(self, i: int, spec: BlockSpec, y: torch.Tensor, c: int) -> torch.Tensor:
        return self._bank(i, spec)(y, spec)  # one width: c is the bank's

    def block_state(self, i: int, spec: BlockSpec, c: int) -> dict[str, torch.Tensor]:
        return self._bank(i, spec).weights(spec)


def _key(rate: float) -> str:
    return f"{rate:g}".replace(".", "_")


def make_supernet(space: BlockSpace, channels: int | None, shared: bool) -> Supernet:
    return SharedIMDBSupernet(space, channels) if shared else Supernet(space, channels)
