"""What every zoo model shares: the LR -> SR interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .info import ModelInfo, describe


class SRNet(nn.Module):
    """Base of the zoo. ``forward(lr) -> sr`` maps (N, in_channels, h, w) images in [0, 1] to
        (N, in_channels, h * scale, w * scale) in [0, 1] (unclamped while training).

        Models whose official weights expect another range scale inside ``forward`` (``io_range``), so
        every caller (evaluation, upscaling, training) speaks [0, 1]. ``min_size`` is the smallest LR
        side the architecture accepts (ESA's strided pooling needs 15 pixels); ``size_multiple`` a number
    both LR sides must be a multiple of (1 for every zoo model today: SwinIR pads to its window inside
    ``forward``). :func:`pad_input` meets both for any caller, and :func:`crop_output` undoes it.

        ``subtract_mean(mean, std)`` (``create_model(..., input_mean=[r, g, b], input_std=s)``): the
        network sees ``(lr - mean) / std`` and its output ``y`` becomes ``y * std + mean``, the input
        normalisation of EDSR-style (std 1) and WDSR-style (std 0.5) training, for any model. The mean is a hyper-parameter, not a weight: the state dict is the
        plain model's, and a saved checkpoint records the mean among its hyper-parameters.
    """

    min_size: int = 1
    size_multiple: int = 1
    supports_fp16: bool = True  # declared per architecture (ModelInfo.fp16)
    supports_bf16: bool = True
    tiling: str = "supported"  # or "discouraged: <why>"

    @property
    def info(self) -> ModelInfo:
        """What this model is and needs (:class:`srkit.models.info.ModelInfo`)."""
        return describe(self)

    def __init__(self, scale: int, in_channels: int = 3) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"{type(self).__name__}: scale must be >= 1, got {scale}")
        self.scale = scale
        self.in_channels = in_channels

    def subtract_mean(self, mean: Sequence[float], std: float = 1.0) -> None:
        """Run the network on ``(x - mean) / std`` and map its output ``y`` to ``y * std + mean`` (per
        channel ``mean``, [0, 1] units; one ``std`` for all channels)."""
        if len(mean) != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}: input_mean has {len(mean)} values for {self.in_channels} channels"
            )
        if hasattr(self, "input_mean"):
            raise ValueError(f"{type(self).__name__}: the input mean is already set")
        if not std > 0:
            raise ValueError(f"{type(self).__name__}: input_std must be positive, got {std}")
        self.input_std = float(std)
        self.register_buffer("input_mean", torch.tensor([float(m) for m in mean]).view(1, -1, 1, 1), persistent=False)
        self.register_forward_pre_hook(_shift_in)
        self.register_forward_hook(_shift_out)


def input_needs(model: nn.Module) -> tuple[int, int]:
    """(minimum LR side, multiple both sides must be) for any module (1, 1 for a non-zoo one)."""
    return int(getattr(model, "min_size", 1)), int(getattr(model, "size_multiple", 1))


def padded_hw(model: nn.Module, hw: tuple[int, int]) -> tuple[int, int]:
    """The LR size ``model`` runs an ``hw`` input at: raised to its minimum, rounded up to its multiple."""
    low, mult = input_needs(model)
    return tuple(-(-max(low, v) // mult) * mult for v in hw)  # type: ignore[return-value]


def pad_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` (N, C, h, w) padded at the bottom and right (edge pixels repeated) to what ``model`` needs."""
    h, w = x.shape[-2:]
    ph, pw = padded_hw(model, (h, w))
    if (ph, pw) == (h, w):
        return x
    return torch.nn.functional.pad(x, (0, pw - w, 0, ph - h), mode="replicate")


def crop_output(y: torch.Tensor, lr_hw: tuple[int, int], scale: int) -> torch.Tensor:
    """The part of an output made from an ``lr_hw`` input that :func:`pad_input` padded."""
    return y[..., : lr_hw[0] * scale, : lr_hw[1] * scale]


def _shift_in(m: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    x = args[0] - m.input_mean.to(args[0].dtype)
    return (x if m.input_std == 1.0 else x / m.input_std, *args[1:])  # std 1 leaves the EDSR form exact


def _shift_out(m: nn.Module, args: tuple[Any, ...], out: torch.Tensor) -> torch.Tensor:
    y = out if m.input_std == 1.0 else out * m.input_std
    return y + m.input_mean.to(out.dtype)
