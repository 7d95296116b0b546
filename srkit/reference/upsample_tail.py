"""Fused-tail reference: clamp(pixel_shuffle(x, r) [+ skip] [+ mean[c]]) in the kernels' working
precision (float32; float64 for float64 inputs). The tests' float64 ground truth is tests/references.py."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def upsample_tail(
    x: torch.Tensor,
    r: int,
    skip: torch.Tensor | None,
    mean: torch.Tensor | None,
    lo: float | None,
    hi: float | None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    dt = torch.float64 if x.dtype == torch.float64 else torch.float32
    v = F.pixel_shuffle(x.to(dt), r)
    if skip is not None:
        v = v + skip.to(dt)
    if mean is not None:
        v = v + mean.to(device=v.device, dtype=torch.float32).to(dt).view(1, -1, 1, 1)
    if lo is not None or hi is not None:
        v = torch.clamp(v, lo, hi)
    return v.to(x.dtype) if out is None else out.copy_(v)
