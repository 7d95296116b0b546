"""Cropping helpers of the evaluation protocol."""

from __future__ import annotations

import torch


def modcrop(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The top-left crop of ``x`` (..., H, W) whose height and width are multiples of ``scale``."""
    if scale < 1:
        raise ValueError(f"srkit.data.modcrop: scale must be >= 1, got {scale}")
    h, w = x.shape[-2:]
    return x[..., : h - h % scale, : w - w % scale]
