"""Reference of ``psnr``: per-image sums of squared error under the evaluation protocol (float64)."""

from __future__ import annotations

import torch

from .protocol import protocol_planes


def sse(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> torch.Tensor:
    a = protocol_planes(sr, sr_mul, quantize, y_only, shave)
    b = protocol_planes(hr, hr_mul, quantize, y_only, shave)
    return ((a - b) ** 2).flatten(1).sum(1)
