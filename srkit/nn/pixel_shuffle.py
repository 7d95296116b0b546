"""``PixelShuffle`` / ``PixelUnshuffle`` modules on srkit's dispatching ops."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops


class PixelShuffle(nn.Module):
    """Drop-in for ``torch.nn.PixelShuffle`` running on srkit's kernels."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(nn.Module):
    """Drop-in for ``torch.nn.PixelUnshuffle`` running on srkit's kernels."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
