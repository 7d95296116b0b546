"""Reference of ``channel_stats``: per-(n, c) mean and population standard deviation (IMDN's
"contrast" is their sum).

Statistics are float32 (float64 for float64 inputs), two-pass: mean first, then the mean squared
deviation from it, never E[x^2] - E[x]^2.
"""

from __future__ import annotations

import torch


def stats_dtype(x: torch.Tensor) -> torch.dtype:
    """The accumulation dtype of the CCA ops: float64 for float64 inputs, else float32."""
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
