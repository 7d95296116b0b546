"""The lightweight search space over srkit's blocks (space 1 of the search issue).

A member is a :class:`Arch`: a feature width, a chain of catalogue blocks
(:class:`srkit.models.BlockSpec`: WDSR-A, WDSR-B, IMDB, RFDB, each optionally with CCA) and an
upsampler (:mod:`srkit.models.upsamplers`), i.e. a :class:`srkit.models.blocknet.BlockNet`. The
space fixes the scale, the widths, the depth range, the candidate blocks and the upsamplers; it
samples uniformly (width, depth, each block, the upsampler), reports its size, validates members,
and serialises to JSON. Some choices are the space's, not a member's: weight norm on every
convolution, the input normalisation ``(x - mean) / std`` (EDSR's with std 1, WDSR's with 0.5)
and the colour (RGB, or Y as ESPCN and FSRCNN work); every member and the supernet carry them. An Arch exports as a genotype JSON that ``srkit train --model``
trains from scratch and ``srkit-bench model`` times.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srkit.models.blocknet import BlockNet
from srkit.models.catalog import BlockSpec, build_block, min_size
from srkit.models.registry import set_input_mean
from srkit.models.upsamplers import BASE_UPSAMPLERS, build_upsampler

DEFAULT_CANDIDATES: tuple[BlockSpec, ...] = (
    BlockSpec("wdsr_a", expansion=2),
    BlockSpec("wdsr_a", expansion=4),
    BlockSpec("wdsr_b", expansion=4),
    BlockSpec("wdsr_b", expansion=6),
    BlockSpec("wdsr_b", expansion=6, attention="cca"),
    BlockSpec("imdb", attention="none"),
    BlockSpec("imdb", attention="cca"),
    BlockSpec("rfdb"),
)


@dataclass(frozen=True)
class Arch:
    channels: int
    blocks: tuple[BlockSpec, ...]
    upsampler: str = "direct"
    weight_norm: bool = False  # every convolution weight-normalised (a space-wide choice)
    input_mean: tuple[float, ...] | None = None  # the network sees (x - mean) / std (space-wide too)
    input_std: float = 1.0
    in_channels: int = 3  # 1: the network works on Y (as ESPCN and FSRCNN do), a space-wide choice

    def key(self) -> str:
        """A canonical string: equal for equal architectures."""
        up = "" if self.upsampler == "direct" else f":{self.upsampler}"
        wn = ":wn" if self.weight_norm else ""
        norm = "" if self.input_mean is None else ":mean" + ("" if self.input_std == 1.0 else f"/{self.input_std:g}")
        y = ":y" if self.in_channels == 1 else ""
        chain = "-".join(b.short() for b in self.blocks) or "0"  # "0": no block (head, body conv, tail)
        return f"c{self.channels}:" + chain + up + wn + norm + y

    def genotype(self) -> dict[str, Any]:
        """What ``srkit train --model genotype.json`` builds: ``create_model('blocknet', scale, ...)``."""
        return {"arch": "blocknet", **self.as_dict()}

    def as_dict(self) -> dict[str, Any]:
        d = {"channels": self.channels, "blocks": [b.canonical() for b in self.blocks], "upsampler": self.upsampler}
        # each later choice is written only when made, so earlier records stay as they were
        return d | _space_wide(self)

    def build(self, scale: int, inference: bool = False) -> BlockNet:
        """The stand-alone network (``inference``: weight norm left out, as it folds away)."""
        net = BlockNet(
            scale,
            self.channels,
            list(self.blocks),
            self.in_channels,
            self.upsampler,
            weight_norm=self.weight_norm and not inference,
        )
        return net if self.input_mean is None else set_input_mean(net, self.input_mean, self.input_std)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Arch:
        try:
            return cls(
                int(d["channels"]),
                tuple(BlockSpec.from_dict(dict(b)) for b in d["blocks"]),
                str(d.get("upsampler", "direct")),
                **_space_wide_from(d),
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"not an architecture (channels, blocks[, upsampler]): {d!r}") from e


def _space_wide(x: Arch | BlockSpace) -> dict[str, Any]:
    """The space-wide choices of an architecture or a space, as records hold them: each only when made."""
    d: dict[str, Any] = {"weight_norm": True} if x.weight_norm else {}
    if x.input_mean is not None:
        d["input_mean"] = list(x.input_mean)
    d |= {"input_std": x.input_std} if x.input_std != 1.0 else {}
    return d | ({"in_channels": x.in_channels} if x.in_channels != 3 else {})


def _space_wide_from(d: dict[str, Any]) -> dict[str, Any]:
    mean = d.get("input_mean")
    return {
        "weight_norm": bool(d.get("weight_norm", False)),
        "input_mean": None if mean is None else tuple(float(m) for m in mean),
        "input_std": float(d.get("input_std", 1.0)),
        "in_channels": int(d.get("in_channels", 3)),
    }


@dataclass(frozen=True)
class BlockSpace:
    scale: int = 4
    channels: tuple[int, ...] = (32,)
    min_blocks: int = 2
    max_blocks: int = 6
    candidates: tuple[BlockSpec, ...] = field(default=DEFAULT_CANDIDATES)
    upsamplers: tuple[str, ...] = BASE_UPSAMPLERS
    weight_norm: bool = False  # every member weight-normalised (WDSR's training setup), supernet included
    input_mean: tuple[float, ...] | None = None  # every member (and the supernet) sees (x - mean) / std
    input_std: float = 1.0
    in_channels: int = 3  # 1: every member works on Y, trained and scored on Y (ESPCN's and FSRCNN's setting)

    def __post_init__(self) -> None:
        if not self.channels or not self.candidates or not self.upsamplers:
            raise ValueError("BlockSpace: needs at least one width, one candidate block and one upsampler")
        if len(set(self.upsamplers)) != len(self.upsamplers) or len(set(self.channels)) != len(self.channels):
            raise ValueError(
                f"BlockSpace: a width or an upsampler is listed twice ({self.channels}, {self.upsamplers})"
            )
        for up in self.upsamplers:
            build_upsampler(
                up, 1, 1, self.scale
            )  # raises, naming the upsampler, if it is unknown or cannot do the scale
        if not 0 <= self.min_blocks <= self.max_blocks:
            raise ValueError(
                f"BlockSpace: need 0 <= min_blocks <= max_blocks, got {self.min_blocks}..{self.max_blocks}"
            )
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("BlockSpace: a candidate block is listed twice")
        for c in self.channels:
            for spec in self.candidates:
                build_block(spec, c)  # raises, naming the block and width, if they do not go together
        if self.in_channels not in (1, 3):
            raise ValueError(f"BlockSpace: in_channels must be 1 (Y) or 3 (RGB), got {self.in_channels}")
        if self.input_mean is not None and len(self.input_mean) != self.in_channels:
            raise ValueError(f"BlockSpace: input_mean needs {self.in_channels} value(s), got {list(self.input_mean)}")
        if not self.input_std > 0 or (self.input_mean is None and self.input_std != 1.0):
            raise ValueError(f"BlockSpace: input_std={self.input_std} needs to be positive and to come with a mean")

    def member(self, channels: int, blocks: tuple[BlockSpec, ...], upsampler: str) -> Arch:
        """The architecture of these choices, with the space-wide ones (weight norm, input normalisation)."""
        return Arch(channels, blocks, upsampler, self.weight_norm, self.input_mean, self.input_std, self.in_channels)

    def min_size(self) -> int:
        """The smallest LR side every architecture of the space runs on (ESA's pooling needs some)."""
        return max([1] + [min_size(spec) for spec in self.candidates])

    def size(self) -> int:
        """How many distinct architectures the space holds."""
        k = len(self.candidates)
        return (
            len(self.channels) * len(self.upsamplers) * sum(k**d for d in range(self.min_blocks, self.max_blocks + 1))
        )

    def sample(self, rng: random.Random, channels: int | None = None) -> Arch:
        """Uniform single-path sampling: the width (unless given), the depth, every block and the
        upsampler, each uniformly."""
        c = channels if channels is not None else rng.choice(self.channels)
        depth = rng.randint(self.min_blocks, self.max_blocks)
        blocks = tuple(rng.choice(self.candidates) for _ in range(depth))
        return self.member(c, blocks, rng.choice(self.upsamplers))

    def validate(self, arch: Arch) -> Arch:
        if arch.channels not in self.channels:
            raise ValueError(f"{arch.key()}: width {arch.channels} is not one of the space's {self.channels}")
        if not self.min_blocks <= len(arch.blocks) <= self.max_blocks:
            raise ValueError(
                f"{arch.key()}: {len(arch.blocks)} blocks, the space allows {self.min_blocks}..{self.max_blocks}"
            )
        for b in arch.blocks:
            if b not in self.candidates:
                raise ValueError(f"{arch.key()}: block {b.short()} is not a candidate of the space")
        if arch.upsampler not in self.upsamplers:
            raise ValueError(f"{arch.key()}: upsampler {arch.upsampler!r} is not one of the space's {self.upsamplers}")
        if arch != self.member(arch.channels, arch.blocks, arch.upsampler):
            raise ValueError(
                f"{arch.key()}: its weight norm, input normalisation or colour is not the space's "
                f"({_space_wide(self) or 'none'})"
            )
        return arch

    def index(self, spec: BlockSpec) -> int:
        return self.candidates.index(spec)

    def as_dict(self) -> dict[str, Any]:
        return {
            "space": "blocks",
            "scale": self.scale,
            "channels": list(self.channels),
            "min_blocks": self.min_blocks,
            "max_blocks": self.max_blocks,
            "candidates": [c.canonical() for c in self.candidates],
            "upsamplers": list(self.upsamplers),
            "size": self.size(),
        } | _space_wide(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlockSpace:
        if d.get("space", "blocks") != "blocks":
            raise ValueError(f"not a block space: {d.get('space')!r}")
        return cls(
            int(d.get("scale", 4)),
            tuple(int(c) for c in d.get("channels", (32,))),
            int(d.get("min_blocks", 2)),
            int(d.get("max_blocks", 6)),
            tuple(BlockSpec.from_dict(dict(c)) for c in d["candidates"]) if "candidates" in d else DEFAULT_CANDIDATES,
            tuple(str(u) for u in d.get("upsamplers", ("direct",))),
            **_space_wide_from(d),
        )  # spaces saved before a choice existed had its default

    def save(self, path: str | Path) -> None:
        from srkit import atomic

        atomic.write_json(Path(path), self.as_dict())

    @classmethod
    def load(cls, path: str | Path) -> BlockSpace:
        return cls.from_dict(json.loads(Path(path).read_text()))
