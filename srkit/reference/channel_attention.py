"""References of the channel-attention ops: per-(n, c) mean and population standard deviation
(IMDN's "contrast" is their sum), and per-(n, c) scaling.

Statistics are float32 (float64 for float64 inputs), two-pass: mean first, then the mean squared
deviation from it, never E[x^2] - E[x]^2.
"""

from __future__ import annotations

import torch


def stats_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def channel_stats(
    x: torch.Tensor, mean_out: torch.Tensor | None = None, std_out: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) per (n, c); written into the outputs when given."""
    v = x.to(stats_dtype(x))
    mean = v.mean(dim=(2, 3))
    std = (v - mean[:, :, None, None]).square().mean(dim=(2, 3)).sqrt()
    if mean_out is None or std_out is None:
        return mean, std
    mean_out.copy_(mean)
    std_out.copy_(std)
    return mean_out, std_out


def channel_scale(x: torch.Tensor, s: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """x * s[n, c] in float32 (float64 for float64), returned in x's dtype (or written into ``out``)."""
    v = x.to(stats_dtype(x)) * s.to(stats_dtype(x))[:, :, None, None]
    return v.to(x.dtype) if out is None else out.copy_(v)


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
