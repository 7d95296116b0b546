"""Reference of ``channel_scale``: x scaled per (n, c), computed in float32 (float64 for float64)."""

from __future__ import annotations

import torch

from .channel_stats import stats_dtype


def channel_scale(x: torch.Tensor, s: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """x * s[n, c] in float32 (float64 for float64), returned in x's dtype (or written into ``out``)."""
    v = x.to(stats_dtype(x)) * s.to(stats_dtype(x))[:, :, None, None]
    return v.to(x.dtype) if out is None else out.copy_(v)
