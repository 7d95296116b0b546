"""What every zoo model shares: the LR -> SR interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class SRNet(nn.Module):
    """Base of the zoo. ``forward(lr) -> sr`` maps (N, in_channels, h, w) images in [0, 1] to
    (N, in_channels, h * scale, w * scale) in [0, 1] (unclamped while training).

    Models whose official weights expect another range scale inside ``forward`` (``io_range``), so
    every caller (evaluation, upscaling, training) speaks [0, 1]. ``min_size`` is the smallest LR
    side the architecture accepts (ESA's strided pooling needs 15 pixels).

    ``subtract_mean(mean)`` (``create_model(..., input_mean=[r, g, b])``): the network sees
    ``lr - mean`` and its output gets ``mean`` added back, the RGB mean subtraction of EDSR-style
    training, for any model. The mean is a hyper-parameter, not a weight: the state dict is the
    plain model's, and a saved checkpoint records the mean among its hyper-parameters.
    """

    min_size: int = 1

    def __init__(self, scale: int, in_channels: int = 3) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"{type(self).__name__}: scale must be >= 1, got {scale}")
        self.scale = scale
        self.in_channels = in_channels

    def subtract_mean(self, mean: Sequence[float]) -> None:
        """Run the network on ``x - mean`` and add ``mean`` to its output (per channel, [0, 1] units)."""
        if len(mean) != self.in_channels:
            raise ValueError(f"{type(self).__name__}: input_mean has {len(mean)} values for {self.in_channels} channels")
        if hasattr(self, "input_mean"):
            raise ValueError(f"{type(self).__name__}: the input mean is already set")
        self.register_buffer("input_mean", torch.tensor([float(m) for m in mean]).view(1, -1, 1, 1), persistent=False)
        self.register_forward_pre_hook(_shift_in)
        self.register_forward_hook(_shift_out)


def _shift_in(m: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0]
    return (x - m.input_mean.to(x.dtype), *args[1:])


def _shift_out(m: nn.Module, args: tuple[Any, ...], out: torch.Tensor) -> torch.Tensor:
    return out + m.input_mean.to(out.dtype)
