"""Reference of ``attention_scale``: IMDN's contrast-aware channel attention applied to x, from the
statistics ``channel_stats`` gives."""

from __future__ import annotations

import torch

from .channel_scale import channel_scale
from .channel_stats import stats_dtype


def attention(
    mean: torch.Tensor, std: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor
) -> torch.Tensor:
    """CCA's factors (N, C): ``sigmoid(W2 relu(W1 (mean + std) + b1) + b2)``, w1 (R, C), w2 (C, R)."""
    hid = torch.relu((mean + std) @ w1.t() + b1)
    return torch.sigmoid(hid @ w2.t() + b2)


def attention_scale(
    x: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """x scaled by CCA's factors, in float32 (float64 for float64); in x's dtype (or into ``out``)."""
    acc = stats_dtype(x)
    s = attention(*(t.to(acc) for t in (mean, std, w1.flatten(1), b1, w2.flatten(1), b2)))
    return channel_scale(x, s, out)
