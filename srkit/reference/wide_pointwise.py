"""Reference of WDSR-B's pointwise pair: y = W2 relu(W1 x + b1) + b2 per pixel (1x1 convolutions)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def wide_pointwise(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """w1 (E, C), w2 (L, E); returned, or written into ``out``."""
    hid = F.relu(F.conv2d(x, w1[:, :, None, None], b1))
    y = F.conv2d(hid, w2[:, :, None, None], b2)
    return y if out is None else out.copy_(y)
