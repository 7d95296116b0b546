"""``srkit.ops.channel_scale``: ``x * s[n, c]``, channel attention's scaling, in one pass.

Arithmetic in float32 (float64 for float64 inputs); the output has x's dtype and memory format.
Backends: Triton, CUDA, C++, PyTorch reference; registered as ``srkit::channel_scale``.
"""

from __future__ import annotations

import torch

from ..reference import channel_scale as reference
from ..reference.channel_stats import stats_dtype
from . import _checks
from .dispatch import by_name, call, custom_op, declare, dispatch, reference_inline

# timed where the models use it: inside attention_scale (its C++ and CUDA backends scale with it)
declare(
    "channel_scale",
    by_name("channel_scale", "triton", "cuda", "cpp") | {"torch": reference.channel_scale},
    timed_in="attention_scale",
)


def _empty(x: torch.Tensor) -> torch.Tensor:
    return _checks.new_output(x, x.shape)


@custom_op("srkit::channel_scale", mutates_args=())
def _channel_scale_op(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    out = _empty(x)
    s_acc = s.to(stats_dtype(x)).contiguous()
    dispatch("channel_scale", x.device, x.dtype)(x, s_acc, out)
    return out


@_channel_scale_op.register_fake
def _(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return _empty(x)


def _setup(ctx, inputs, output) -> None:
    ctx.save_for_backward(*inputs)


def _backward(ctx, g: torch.Tensor):
    x, s = ctx.saved_tensors
    gx = _channel_scale_op(g, s) if ctx.needs_input_grad[0] else None
    acc = stats_dtype(x)
    gs = (g.to(acc) * x.to(acc)).sum(dim=(2, 3)).to(s.dtype) if ctx.needs_input_grad[1] else None
    return gx, gs


_channel_scale_op.register_autograd(_backward, setup_context=_setup)


def channel_scale(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """``x * s[:, :, None, None]`` for x (N, C, H, W) and s (N, C) (or (N, C, 1, 1))."""
    _checks.tensor4(x, "x", "channel_scale")
    _checks.float_dtype(x, "channel_scale")
    if not isinstance(s, torch.Tensor) or not s.is_floating_point():
        raise TypeError("srkit.channel_scale: s must be a floating-point tensor")
    if s.dim() == 4 and s.shape[2:] == (1, 1):
        s = s.flatten(1)
    if tuple(s.shape) != tuple(x.shape[:2]):
        raise ValueError(f"srkit.channel_scale: s has shape {tuple(s.shape)}, expected (N, C) = {tuple(x.shape[:2])}")
    _checks.same_device(x, s, "x and s", "channel_scale")
    inl = reference_inline("channel_scale", x, s)
    return reference.channel_scale(x, s) if inl else call(_channel_scale_op, x, s)
