"""``srkit.ops.wide_pointwise``: WDSR-B's 1x1 -> ReLU -> 1x1 pair, ``W2 relu(W1 x + b1) + b2``.

The Triton kernel keeps the wide activation (E channels) in registers; the C++ CPU kernel keeps a
tile of it in a per-thread buffer; the PyTorch reference runs two 1x1 convolutions (and is the
CPU's default: oneDNN measures faster than the C++ kernel there). There is no
CUDA C++ implementation (the dispatcher says so and runs Triton on a GPU). The backward recomputes the wide activation from
x instead of storing it, so a forward pass keeps only x for the backward. It is an op of its own,
``wide_pointwise_backward``: in Triton one kernel recomputes the wide activation tile by tile and
never materialises it (weight gradients summed atomically, so their last bits vary run to run on a
GPU); the PyTorch reference materialises it for one block at a time and is the CPU's choice.
Registered as ``srkit::wide_pointwise``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..reference import wide_pointwise as reference
from . import _checks, precision
from .dispatch import call, custom_op, declare, dispatch, extension, torch_inline


def _triton(x, w1, b1, w2, b2, out) -> None:
    from srkit.kernels import wide_pointwise as k

    k.wide_pointwise(x, w1, b1, w2, b2, out, allow_tf32=precision.conv_allows_tf32())


def _cpp(x, w1, b1, w2, b2, out) -> None:
    extension().wide_pointwise_cpu(x, w1, b1, w2, b2, out)  # type: ignore[union-attr]


# On the CPU, PyTorch's two 1x1 convolutions (oneDNN) outrun the C++ kernel (2-core Xeon, fp32,
# WDSR-B block at 1x32x90x160: 12.4 ms on the reference against 67 ms with the C++ kernels forced;
# bench/results/ops_cpu_*.json), so the CPU tries the reference first; the C++ kernel runs on request.
declare(
    "wide_pointwise",
    {"triton": _triton, "cpp": _cpp, "torch": reference.wide_pointwise},
    order={"cpu": ("torch", "cpp")},
    timed_in="wdsr_b",  # inside the WDSR-B block the models run
)


def _empty(x: torch.Tensor, l: int) -> torch.Tensor:
    return _checks.new_output(x, (x.shape[0], l, *x.shape[2:]))


@custom_op("srkit::wide_pointwise", mutates_args=())
def _wide_pointwise_op(
    x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor
) -> torch.Tensor:
    out = _empty(x, w2.shape[0])
    args = [t.to(x.dtype).contiguous() for t in (w1, b1, w2, b2)]
    dispatch("wide_pointwise", x.device, x.dtype, _checks.no_float64_on_tensor_cores(x))(x, *args, out)
    return out


@_wide_pointwise_op.register_fake
def _(x, w1, b1, w2, b2) -> torch.Tensor:
    return _empty(x, w2.shape[0])


def _backward_triton(x, g, w1, b1, w2, gx, gw1, gb1, gw2, gb2) -> None:
    from srkit.kernels import wide_pointwise as k

    k.wide_pointwise_backward(x, g, w1, b1, w2, gx, gw1, gb1, gw2, gb2, allow_tf32=precision.conv_allows_tf32())


def _backward_torch(x, g, w1, b1, w2, gx, gw1, gb1, gw2, gb2) -> None:
    pre = F.conv2d(x, w1[:, :, None, None], b1)
    g_hid = F.conv2d(g, w2.t()[:, :, None, None]) * (pre > 0)
    gx.copy_(F.conv2d(g_hid, w1.t()[:, :, None, None]))
    gw1.copy_(torch.einsum("nehw,nchw->ec", g_hid, x))
    gb1.copy_(g_hid.sum((0, 2, 3)))
    gw2.copy_(torch.einsum("nlhw,nehw->le", g, F.relu(pre)))
    gb2.copy_(g.sum((0, 2, 3)))


# no C++ backward: on the CPU the reference is the choice, not a fallback
declare(
    "wide_pointwise_backward",
    {"triton": _backward_triton, "torch": _backward_torch},
    order={"cpu": ("torch",)},
    timed_in="wdsr_b",
    home="wide_pointwise",
)


def _setup(ctx, inputs, output) -> None:
    ctx.save_for_backward(*inputs)  # x and the weights only: the wide activation is recomputed


def _backward(ctx, g: torch.Tensor):
    x, w1, b1, w2, b2 = ctx.saved_tensors
    ws = [t.to(x.dtype).contiguous() for t in (w1, b1, w2)]
    acc = torch.float64 if x.dtype == torch.float64 else torch.float32
    gx = _checks.new_output(x, x.shape)
    gw1, gb1, gw2, gb2 = (torch.empty(t.shape, dtype=acc, device=x.device) for t in (w1, b1, w2, b2))
    dispatch("wide_pointwise_backward", x.device, x.dtype, _checks.no_float64_on_tensor_cores(x))(
        x, g.to(x.dtype), *ws, gx, gw1, gb1, gw2, gb2
    )
    need = ctx.needs_input_grad
    return (
        gx if need[0] else None,
        *(
            t.to(p.dtype) if n else None
            for t, p, n in zip((gw1, gb1, gw2, gb2), (w1, b1, w2, b2), need[1:], strict=False)
        ),
    )


_wide_pointwise_op.register_autograd(_backward, setup_context=_setup)


def wide_pointwise(
    x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor
) -> torch.Tensor:
    """``W2 relu(W1 x + b1) + b2`` per pixel: x (N, C, H, W), w1 (E, C) or (E, C, 1, 1), b1 (E,),
    w2 (L, E) or (L, E, 1, 1), b2 (L,). Output (N, L, H, W) in x's dtype and layout."""
    op = "wide_pointwise"
    _checks.tensor4(x, "x", op)
    _checks.float_dtype(x, "wide_pointwise")
    w1, w2 = w1.flatten(1), w2.flatten(1)
    c, e, l = x.shape[1], w1.shape[0], w2.shape[0]
    if w1.shape != (e, c) or w2.shape != (l, e) or b1.shape != (e,) or b2.shape != (l,):
        raise ValueError(
            f"srkit.wide_pointwise: weights do not chain: x has {c} channels, w1 {tuple(w1.shape)}, b1 {tuple(b1.shape)}, "
            f"w2 {tuple(w2.shape)}, b2 {tuple(b2.shape)} (expected (E, C), (E,), (L, E), (L,))"
        )
    for t, name in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2")):
        _checks.same_device(x, t, f"x and {name}", op)
    if torch_inline(op, x, w1, b1, w2, b2):
        return reference.wide_pointwise(x, w1.to(x.dtype), b1.to(x.dtype), w2.to(x.dtype), b2.to(x.dtype))
    return call(_wide_pointwise_op, x, w1, b1, w2, b2)
