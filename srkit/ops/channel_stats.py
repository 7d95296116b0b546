"""``srkit.ops.channel_stats``: per-(n, c) mean and population standard deviation over H x W.

Two-pass and float32 (float64 for float64 inputs) on every backend, so low-precision inputs get
stable statistics. IMDN's contrast-aware attention uses ``mean + std``. Backends: Triton, CUDA,
C++, PyTorch reference; registered as ``srkit::channel_stats``. The backward is exact:
d mean / dx = 1 / HW and d std / dx = (x - mean) / (HW std), taken as 0 where std is 0 (a constant
plane, e.g. a 1x1 image), where the derivative of the square root does not exist.
"""

from __future__ import annotations

import torch

from ..reference import channel_stats as reference
from . import _checks
from .dispatch import by_name, call, custom_op, declare, dispatch, reference_inline

# timed in IMDN's CCA, whose statistics it computes
declare(
    "channel_stats",
    by_name("channel_stats", "triton", "cuda", "cpp") | {"torch": reference.channel_stats},
    timed_in="cca",
)


def _empty(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    n, c = x.shape[:2]
    dt = reference.stats_dtype(x)
    return x.new_empty((n, c), dtype=dt), x.new_empty((n, c), dtype=dt)


@custom_op("srkit::channel_stats", mutates_args=())
def _channel_stats_op(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = _empty(x)
    dispatch("channel_stats", x.device, x.dtype)(x, mean, std)
    return mean, std


@_channel_stats_op.register_fake
def _(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return _empty(x)


def _setup(ctx, inputs, output) -> None:
    ctx.save_for_backward(inputs[0], *output)


def _backward(ctx, g_mean: torch.Tensor, g_std: torch.Tensor) -> torch.Tensor:
    x, mean, std = ctx.saved_tensors
    hw = x.shape[2] * x.shape[3]
    safe = torch.where(std > 0, std, torch.ones_like(std))
    k_std = torch.where(std > 0, g_std / (hw * safe), torch.zeros_like(std))[:, :, None, None]
    v = x.to(mean.dtype)
    return ((g_mean / hw)[:, :, None, None] + k_std * (v - mean[:, :, None, None])).to(x.dtype)


_channel_stats_op.register_autograd(_backward, setup_context=_setup)


def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std), each (N, C), of ``x`` (N, C, H, W) float16/bfloat16/float32/float64, any layout."""
    _checks.tensor4(x, "x", "channel_stats")
    _checks.float_dtype(x, "channel_stats")
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"srkit.channel_stats: the planes are empty (shape {tuple(x.shape)})")
    inl = reference_inline("channel_stats", x)
    return reference.channel_stats(x) if inl else call(_channel_stats_op, x)
