"""BlockNet: a chain of catalogue blocks between a head conv and a sub-pixel tail.

``head (3x3, in -> C) -> blocks -> 3x3 conv + head output -> upsampler`` (by default ``direct``: a
conv to in x scale^2 and a pixel shuffle; :mod:`srkit.models.upsamplers` lists the others), plus,
for a ``+skip`` upsampler, WDSR's 5x5 sub-pixel branch from the input. ``weight_norm``
weight-normalises every convolution, as WDSR trains (:meth:`BlockNet.fold_weight_norm` folds it
for inference).
The block list is data (:class:`srkit.models.catalog.BlockSpec` dicts), which makes BlockNet the
network that latency tables predict (stem + sum of blocks) and that the lightweight search space
exports as a genotype.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ...nn import apply_weight_norm, fold_weight_norm
from ..base import SRNet
from ..blocks import conv
from ..catalog import BlockSpec, build_block, min_size
from ..registry import register
from ..upsamplers import build_skip, build_upsampler, split_upsampler

DEFAULT_BLOCKS: tuple[dict[str, Any], ...] = tuple({"type": "wdsr_b", "expansion": 6} for _ in range(4))


class BlockNet(SRNet):
    def __init__(
        self,
        scale: int,
        channels: int = 32,
        blocks: Sequence[BlockSpec | dict[str, Any]] = DEFAULT_BLOCKS,
        in_channels: int = 3,
        upsampler: str = "direct",
        weight_norm: bool = False,
    ) -> None:
        super().__init__(scale, in_channels)
        specs = [b if isinstance(b, BlockSpec) else BlockSpec.from_dict(dict(b)) for b in blocks]
        self.specs = specs
        self.min_size = max([1] + [min_size(s) for s in specs])
        if any(s.attention == "cca" for s in specs):
            self.tiling = "discouraged: CCA blocks use whole-image statistics"
        self.head = conv(in_channels, channels, 3)
        self.body = nn.Sequential(*[build_block(s, channels) for s in specs])
        self.body_conv = conv(channels, channels, 3)
        self.upsampler_kind = upsampler
        self.tail = build_upsampler(upsampler, channels, in_channels, scale)
        self.skip = build_skip(in_channels, scale) if split_upsampler(upsampler)[1] else None
        if weight_norm:
            apply_weight_norm(self)

    def fold_weight_norm(self) -> BlockNet:
        """Plain weights for inference (the same outputs)."""
        return fold_weight_norm(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.head(x)
        y = self.tail(self.body_conv(self.body(f)) + f)
        return y if self.skip is None else y + self.skip(x)


@register("blocknet", scales=(2, 3, 4))
def blocknet(
    scale: int = 4,
    channels: int = 32,
    blocks: Sequence[dict[str, Any]] = DEFAULT_BLOCKS,
    in_channels: int = 3,
    upsampler: str = "direct",
    weight_norm: bool = False,
) -> BlockNet:
    """BlockNet: head conv, a chain of catalogue blocks (WDSR-A/B, IMDB, RFDB, +CCA), an upsampler
    (direct sub-pixel, progressive sub-pixel or nearest+conv, each optionally ``+skip``: WDSR's input branch);
    ``weight_norm`` on every convolution."""
    return BlockNet(scale, channels, [dict(b) for b in blocks], in_channels, upsampler, weight_norm)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {}
# models whose weights do not hold every hyper-parameter: srkit's metadata is their only record
UNDETECTABLE: dict[str, str] = {
    "blocknet": "a searched genotype: block types without weights (identity, pooling) leave no trace",
}
