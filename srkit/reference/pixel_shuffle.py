"""pixel_shuffle / pixel_unshuffle reference: PyTorch's own, written into a caller-given output."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_shuffle(x: torch.Tensor, r: int, out: torch.Tensor | None = None, shuffle: bool = True) -> torch.Tensor:
    y = F.pixel_shuffle(x, r) if shuffle else F.pixel_unshuffle(x, r)
    return y if out is None else out.copy_(y)
