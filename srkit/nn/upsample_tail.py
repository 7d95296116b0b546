"""``UpsampleTail``: the sub-pixel tail of SR networks as one fused op."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .. import ops


class UpsampleTail(nn.Module):
    """``clamp(pixel_shuffle(x, r) [+ skip] [+ mean], lo, hi)`` in one pass.

    ``mean``: per-output-channel values added back (e.g. EDSR's RGB mean times its range), kept as
    a buffer; ``clamp``: (lo, hi) bounds, either may be None (no clamp by default, as in training).
    """

    mean: torch.Tensor | None

    def __init__(
        self,
        upscale_factor: int,
        mean: Sequence[float] | torch.Tensor | None = None,
        clamp: tuple[float | None, float | None] | None = None,
    ) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor
        self.clamp = clamp
        m = None if mean is None else torch.as_tensor(mean, dtype=torch.float32).flatten()
        self.register_buffer("mean", m)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        return ops.upsample_tail(x, self.upscale_factor, skip=skip, mean=self.mean, clamp=self.clamp)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}, mean={self.mean is not None}, clamp={self.clamp}"
