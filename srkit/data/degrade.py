"""The standard bicubic degradation (BI): LR = MATLAB imresize(modcrop(HR, s), 1/s, 'bicubic')."""

from __future__ import annotations

import torch

from .crop import modcrop
from .imresize import imresize


def bicubic_lr(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """The LR image the SR benchmarks use for ``hr`` (uint8 in, uint8 out)."""
    return imresize(modcrop(hr, scale), 1 / scale)


def bicubic_sr(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The bicubic baseline: MATLAB imresize(LR, s, 'bicubic')."""
    return imresize(lr, scale)
