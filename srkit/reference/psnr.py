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


# The per-image loops that srkit's batched metrics are benchmarked and tested against.
def psnr_basicsr_loop(sr: torch.Tensor, hr: torch.Tensor, shave: int) -> list[float]:
    """Per-image float64 PSNR on Y the way BasicSR's calculate_psnr does it (one image at a time)."""
    out = []
    for a, b in zip(sr, hr, strict=True):
        ya = protocol_planes(a[None], 1.0, False, True, shave)
        yb = protocol_planes(b[None], 1.0, False, True, shave)
        mse = torch.mean((ya - yb) ** 2)
        out.append(float(10 * torch.log10(255.0**2 / mse)))
    return out
