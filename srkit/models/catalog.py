"""The block catalogue: residual SR blocks built from a small, serialisable description.

A :class:`BlockSpec` names a block type and its options; :func:`build_block` makes the module for a
feature width. The latency table (``srkit-bench lut``) times blocks by their spec, and the search
spaces of ``srkit.search`` sample specs, so both speak of the same blocks:

* ``wdsr_a`` -- WDSR-A: k x k widen by ``expansion``, ReLU, k x k back (:class:`srkit.nn.WideActBlockA`);
* ``wdsr_b`` -- WDSR-B: 1x1 widen by ``expansion``, ReLU, 1x1 to ``low_rank`` x width, k x k back;
* ``imdb``   -- IMDN's information multi-distillation block (its CCA is the ``attention``);
* ``rfdb``   -- RFDN's residual feature distillation block (with ESA);
* ``imdb_path`` -- an IMDB whose stages each distil or not (``path``, e.g. ``101``), at rate
  ``distill`` (:class:`srkit.models.imdb_path.IMDBPath`; the IMDB multi-path search space).

``attention="cca"`` adds contrast-aware channel attention: inside the fusion for ``imdb``, on the
block's output for the others. Every block maps (N, C, H, W) to the same shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from torch import nn

from ..nn import ContrastChannelAttention, WideActBlockA, WideActBlockB
from .imdb_path import IMDBPath, check_path
from .imdn import IMDB
from .rfdn import RFDB, RFDN

BLOCK_TYPES = ("wdsr_a", "wdsr_b", "imdb", "rfdb", "imdb_path")
ATTENTIONS = ("none", "cca")


@dataclass(frozen=True)
class BlockSpec:
    type: str
    expansion: int = 4
    low_rank: float = 0.8
    kernel_size: int = 3
    attention: str = "none"
    path: str = "111"  # imdb_path: one bit per stage, 1 = distil
    distill: float = 0.25  # imdb_path: the kept fraction at each distilling stage

    def __post_init__(self) -> None:
        if self.type not in BLOCK_TYPES:
            raise ValueError(f"block type {self.type!r} is not one of {', '.join(BLOCK_TYPES)}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"block attention {self.attention!r} is not one of {', '.join(ATTENTIONS)}")
        if self.expansion < 1 or not 0 < self.low_rank <= 4 or self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"block {self}: need expansion >= 1, 0 < low_rank <= 4 and an odd kernel_size")
        if self.type == "imdb_path":
            check_path(self.path)
            if not 0 < self.distill < 1:
                raise ValueError(f"block {self}: need 0 < distill < 1")

    def canonical(self) -> dict[str, Any]:
        """The options that matter for this type (others at their defaults), as a plain dict."""
        d = asdict(self)
        if self.type != "wdsr_b":
            d.pop("low_rank")
        if self.type not in ("wdsr_a", "wdsr_b"):
            d.pop("expansion")
            d.pop("kernel_size")
        if self.type != "imdb_path":
            d.pop("path")
            d.pop("distill")
        return d

    def short(self) -> str:
        """A compact name: ``A4`` / ``B6`` (WDSR-A/B and their expansion; ``k5`` for a 5x5, ``r0.5``
        for another low rank), ``imdb``, ``rfdb``; ``+cca`` with attention."""
        if self.type in ("wdsr_a", "wdsr_b"):
            name = f"{self.type[-1].upper()}{self.expansion}"
            name += f"k{self.kernel_size}" if self.kernel_size != 3 else ""
            name += f"r{self.low_rank:g}" if self.type == "wdsr_b" and self.low_rank != 0.8 else ""
        elif self.type == "imdb_path":
            name = f"P{self.path}" + (f"d{self.distill:g}" if self.distill != 0.25 else "")
        else:
            name = self.type
        return name + ("+cca" if self.attention == "cca" else "")

    def key(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.canonical().items())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlockSpec:
        if not isinstance(d, dict) or "type" not in d:
            raise ValueError(f"a block is a mapping with a 'type', got {d!r}")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"block {d!r}: unknown option(s) {sorted(unknown)}; options are {sorted(known)}")
        return cls(**d)


class _Attended(nn.Sequential):
    """A block followed by CCA on its output."""


def build_block(spec: BlockSpec | dict[str, Any], channels: int) -> nn.Module:
    """The module for ``spec`` at feature width ``channels`` (plain weights: no weight norm)."""
    s = spec if isinstance(spec, BlockSpec) else BlockSpec.from_dict(spec)
    if channels < 1:
        raise ValueError(f"block width must be >= 1, got {channels}")
    if s.type == "imdb":
        if channels < 16 and s.attention == "cca":
            raise ValueError(f"imdb with CCA needs >= 16 channels (its attention reduces 16x), got {channels}")
        if channels < 4:
            raise ValueError(f"imdb needs >= 4 channels (a quarter is distilled), got {channels}")
        return IMDB(channels, attention=s.attention == "cca")
    if s.type == "imdb_path":
        return IMDBPath(channels, s.path, s.distill, attention=s.attention == "cca")
    if s.type == "wdsr_a":
        block: nn.Module = WideActBlockA(channels, s.expansion, kernel_size=s.kernel_size, weight_norm=False)
    elif s.type == "wdsr_b":
        block = WideActBlockB(channels, s.expansion, s.low_rank, kernel_size=s.kernel_size, weight_norm=False)
    else:
        if channels < 4:
            raise ValueError(f"rfdb needs >= 4 channels (its ESA works at a quarter), got {channels}")
        block = RFDB(channels)
    if s.attention == "cca":
        if channels < 16:
            raise ValueError(f"CCA needs >= 16 channels (it reduces 16x), got {channels}")
        return _Attended(block, ContrastChannelAttention(channels))
    return block


def min_size(spec: BlockSpec | dict[str, Any]) -> int:
    """The smallest feature-map side the block accepts (RFDB's ESA pools with stride)."""
    s = spec if isinstance(spec, BlockSpec) else BlockSpec.from_dict(spec)
    return RFDN.min_size if s.type == "rfdb" else 1
