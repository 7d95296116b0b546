"""``srkit.ops.attention_scale``: channel attention's MLP and scaling as one op,
``x * sigmoid(W2 relu(W1 (mean + std) + b1) + b2)[n, c]`` (IMDN's CCA after its statistics).

The Triton kernel recomputes the (tiny) MLP inside the scaling kernel, so the attention factors are
never written and no kernel launches for them. The C++ and CUDA C++ backends run the MLP on the
(N, C) statistics in PyTorch, then their channel_scale kernel; the reference is all PyTorch.
Arithmetic in float32 (float64 for float64 inputs). The backward recomputes the factors from the
statistics (N x C values) and returns gradients for x, the statistics and the four weights.
Registered as ``srkit::attention_scale``.
"""

from __future__ import annotations

import torch

from ..reference import attention_scale as reference
from ..reference.channel_stats import stats_dtype
from . import _checks
from .channel_scale import channel_scale
from .dispatch import call, custom_op, declare, dispatch, extension, reference_inline


def _triton(x, mean, std, w1, b1, w2, b2, out) -> None:
    from srkit.kernels import attention_scale as k

    k.attention_scale(x, mean, std, w1, b1, w2, b2, out)


def _factors_then(kernel: str):
    """The extension's ``kernel`` (channel_scale_cpu / _cuda) after the MLP in PyTorch on the (N, C) statistics."""

    def run(x, mean, std, w1, b1, w2, b2, out) -> None:
        getattr(extension(), kernel)(x, reference.attention(mean, std, w1, b1, w2, b2), out)

    return run


declare(
    "attention_scale",
    {
        "triton": _triton,
        "cuda": _factors_then("channel_scale_cuda"),
        "cpp": _factors_then("channel_scale_cpu"),
        "torch": reference.attention_scale,
    },
)


@custom_op("srkit::attention_scale", mutates_args=())
def _attention_scale_op(
    x: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
) -> torch.Tensor:
    out = _checks.new_output(x, x.shape)
    acc = stats_dtype(x)
    args = [t.to(acc).contiguous() for t in (mean, std, w1, b1, w2, b2)]
    dispatch("attention_scale", x.device, x.dtype)(x, *args, out)
    return out


@_attention_scale_op.register_fake
def _(x, mean, std, w1, b1, w2, b2) -> torch.Tensor:
    return _checks.new_output(x, x.shape)


def _setup(ctx, inputs, output) -> None:
    ctx.save_for_backward(*inputs)  # x, the (N, C) statistics and the weights: the factors are recomputed


def _backward(ctx, g: torch.Tensor):
    x, *small = ctx.saved_tensors
    acc = stats_dtype(x)
    with torch.enable_grad():
        leaves = [t.detach().to(acc).requires_grad_() for t in small]
        s = reference.attention(*leaves)
    gx = channel_scale(g, s.detach()) if ctx.needs_input_grad[0] else None
    grads: list[torch.Tensor | None] = [None] * 6
    if any(ctx.needs_input_grad[1:]):
        gs = (g.to(acc) * x.to(acc)).sum(dim=(2, 3))
        grads = list(torch.autograd.grad(s, leaves, gs))
    return gx, *(
        None if gr is None or not need else gr.to(t.dtype)
        for gr, need, t in zip(grads, ctx.needs_input_grad[1:], small, strict=False)
    )


_attention_scale_op.register_autograd(_backward, setup_context=_setup)


def attention_scale(
    x: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
) -> torch.Tensor:
    """``x * sigmoid(W2 relu(W1 (mean + std) + b1) + b2)`` per (n, c): x (N, C, H, W); mean and std
    (N, C); w1 (R, C) or (R, C, 1, 1), b1 (R,), w2 (C, R) or (C, R, 1, 1), b2 (C,)."""
    op = "attention_scale"
    _checks.tensor4(x, "x", op)
    _checks.float_dtype(x, "attention_scale")
    n, c = x.shape[:2]
    w1, w2 = w1.flatten(1), w2.flatten(1)
    r = w1.shape[0]
    if mean.shape != (n, c) or std.shape != (n, c):
        raise ValueError(
            f"srkit.attention_scale: mean and std must be (N, C) = {(n, c)}, got {tuple(mean.shape)} and {tuple(std.shape)}"
        )
    if w1.shape != (r, c) or b1.shape != (r,) or w2.shape != (c, r) or b2.shape != (c,):
        raise ValueError(
            f"srkit.attention_scale: the MLP's weights do not fit {c} channels: w1 {tuple(w1.shape)}, b1 {tuple(b1.shape)}, "
            f"w2 {tuple(w2.shape)}, b2 {tuple(b2.shape)} (expected (R, C), (R,), (C, R), (C,))"
        )
    for t, name in ((mean, "mean"), (std, "std"), (w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2")):
        _checks.same_device(x, t, f"x and {name}", op)
    if reference_inline(op, x, mean, std, w1, b1, w2, b2):
        return reference.attention_scale(x, mean, std, w1, b1, w2, b2)
    return call(_attention_scale_op, x, mean, std, w1, b1, w2, b2)
