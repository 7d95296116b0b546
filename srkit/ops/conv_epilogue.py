"""``srkit.ops.conv_epilogue``: a k x k convolution with its epilogue fused,
``[residual + res_scale *] [relu](conv(x, w) + b)`` ('same' zero padding, stride 1, odd k).

WDSR-A's two convs (bias+ReLU; res_scale+residual) and WDSR-B's k x k conv (res_scale+residual)
run through it. The Triton kernel is an implicit GEMM on tensor cores whose epilogue works on the
accumulator before the one store; the C++ CPU kernel accumulates an output row in a per-thread
buffer (on the CPU the reference is the default: oneDNN's convolution measures faster); the
PyTorch reference is a convolution, a ReLU and an add. There is no CUDA C++
implementation (the dispatcher says so and runs Triton on a GPU). In the backward, the input
gradient is this op again (the flipped, transposed kernel); the weight gradient is PyTorch's; with
ReLU and no residual the ReLU's mask comes from the saved output, so
nothing beyond the output (which the next layer keeps anyway) is stored.
Registered as ``srkit::conv_epilogue``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..reference import conv_epilogue as reference
from . import _checks, precision
from .dispatch import call, custom_op, declare, dispatch, extension, torch_inline


def _triton(x, w, b, residual, res_scale, relu, out) -> None:
    from srkit.kernels import conv_epilogue as k

    k.conv_epilogue(x, w, b, residual, res_scale, relu, out, allow_tf32=precision.conv_allows_tf32())


def _cpp(x, w, b, residual, res_scale, relu, out) -> None:
    extension().conv_epilogue_cpu(x, w, b, residual, res_scale, relu, out)  # type: ignore[union-attr]


def _torch(x, w, b, residual, res_scale, relu, out) -> None:
    reference.conv_epilogue(x, w, b, residual, res_scale, relu, out=out)


# On the CPU, PyTorch's convolution (oneDNN) outruns the C++ kernel (2-core Xeon, fp32, 32 -> 32 at
# 90x160: 3.7 ms against 34 ms), so the CPU tries the reference first; the C++ kernel runs on request
# (SRKIT_BACKEND=cpp, use_backend("cpp")) and is tested like every backend.
declare("conv_epilogue", {"triton": _triton, "cpp": _cpp, "torch": _torch}, order={"cpu": ("torch", "cpp")})


def _empty(x: torch.Tensor, co: int) -> torch.Tensor:
    return _checks.new_output(x, (x.shape[0], co, *x.shape[2:]))


@custom_op("srkit::conv_epilogue", mutates_args=())
def _conv_epilogue_op(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    residual: torch.Tensor | None,
    res_scale: float,
    relu: bool,
) -> torch.Tensor:
    out = _empty(x, w.shape[0])
    b = b.to(x.dtype).contiguous() if b is not None else None
    dispatch("conv_epilogue", x.device, x.dtype, _checks.no_float64_on_tensor_cores(x))(
        x, w.to(x.dtype), b, residual, res_scale, relu, out
    )  # each backend lays w out itself
    return out


@_conv_epilogue_op.register_fake
def _(x, w, b, residual, res_scale, relu) -> torch.Tensor:
    return _empty(x, w.shape[0])


def _setup(ctx, inputs, output) -> None:
    x, w, b, residual, res_scale, relu = inputs
    ctx.res_scale, ctx.relu, ctx.residual = res_scale, relu, residual is not None
    # ReLU's mask: from the output when nothing was added after it, else recomputed in the backward
    ctx.save_for_backward(x, w, b, output if relu and residual is None else None)


def _backward(ctx, g: torch.Tensor):
    x, w, b, y = ctx.saved_tensors
    pad = w.shape[-1] // 2
    wx = w.to(g.dtype)
    gz = g * ctx.res_scale if ctx.residual else g
    if ctx.relu:
        positive = y > 0 if y is not None else F.conv2d(x, wx, None if b is None else b.to(x.dtype), padding=pad) > 0
        gz = gz * positive
    # the input gradient of a stride-1 'same' conv is the same conv of gz with the kernel flipped and
    # its channel axes swapped: it runs on this op's own kernels
    gx = (
        _conv_epilogue_op(gz, wx.flip(2, 3).transpose(0, 1), None, None, 1.0, False)
        if ctx.needs_input_grad[0]
        else None
    )
    gw = torch.nn.grad.conv2d_weight(x, w.shape, gz, padding=pad).to(w.dtype) if ctx.needs_input_grad[1] else None
    gb = gz.sum((0, 2, 3)).to(b.dtype) if b is not None and ctx.needs_input_grad[2] else None
    gr = g if ctx.needs_input_grad[3] else None
    return gx, gw, gb, gr, None, None


_conv_epilogue_op.register_autograd(_backward, setup_context=_setup)


def conv_epilogue(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    *,
    residual: torch.Tensor | None = None,
    res_scale: float = 1.0,
    relu: bool = False,
) -> torch.Tensor:
    """``[residual + res_scale *] [relu](conv2d(x, w, b, padding=k // 2))``: x (N, CI, H, W),
    w (CO, CI, k, k) with odd k, b (CO,) or None, residual (N, CO, H, W) or None. Output
    (N, CO, H, W) in x's dtype and layout; weights and residual are cast to x's dtype."""
    op = "conv_epilogue"
    _checks.tensor4(x, "x", op)
    _checks.float_dtype(x, "conv_epilogue")
    _checks.tensor4(w, "w", op)
    co, ci, kh, kw = w.shape
    if ci != x.shape[1] or kh != kw or kh % 2 == 0:
        raise ValueError(
            f"srkit.conv_epilogue: w must be (CO, {x.shape[1]}, k, k) with odd k for x with {x.shape[1]} "
            f"channels, got {tuple(w.shape)}"
        )
    _checks.same_device(x, w, "x and w", op)
    if b is not None:
        if b.shape != (co,):
            raise ValueError(f"srkit.conv_epilogue: b must be ({co},), got {tuple(b.shape)}")
        _checks.same_device(x, b, "x and b", op)
    if residual is not None:
        _checks.tensor4(residual, "residual", op)
        want = (x.shape[0], co, *x.shape[2:])
        if tuple(residual.shape) != want:
            raise ValueError(
                f"srkit.conv_epilogue: residual must be {want} (the output's shape), got {tuple(residual.shape)}"
            )
        _checks.same_device(x, residual, "x and residual", op)
        residual = residual.to(x.dtype)
    if torch_inline(op, x, w, b, residual):
        return reference.conv_epilogue(
            x, w.to(x.dtype), None if b is None else b.to(x.dtype), residual, res_scale, relu
        )
    return call(_conv_epilogue_op, x, w, b, residual, float(res_scale), bool(relu))
