"""``srkit.ops.upsample_tail``: the sub-pixel tail fused into one pass,
``clamp(pixel_shuffle(x, r) [+ skip] [+ mean[c]], lo, hi)``.

``skip`` is a tensor of the output's shape (WDSR's second branch, or the bicubic-upsampled input),
``mean`` a per-output-channel float32 vector (e.g. the RGB mean added back), ``lo``/``hi`` the
clamp bounds (either may be None). Backends: Triton, CUDA, C++, PyTorch reference; registered as
``srkit::upsample_tail`` with a backward that recomputes the clamp mask instead of storing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..reference import upsample_tail as reference
from . import _checks
from .dispatch import call, custom_op, declare, dispatch, extension, reference_inline
from .pixel_shuffle import _pixel_unshuffle_op, output_shape


def _triton(x, r, skip, mean, lo, hi, out) -> None:
    from srkit.kernels import upsample_tail as k

    k.upsample_tail(x, r, skip, mean, lo, hi, out)


def _cuda(x, r, skip, mean, lo, hi, out) -> None:
    extension().upsample_tail_cuda(x, skip, mean, out, r, lo, hi)  # type: ignore[union-attr]


def _cpp(x, r, skip, mean, lo, hi, out) -> None:
    extension().upsample_tail_cpu(x, skip, mean, out, r, lo, hi)  # type: ignore[union-attr]


def _torch(x, r, skip, mean, lo, hi, out) -> None:
    reference.upsample_tail(x, r, skip, mean, lo, hi, out)


declare("upsample_tail", {"triton": _triton, "cuda": _cuda, "cpp": _cpp, "torch": _torch})


def _empty(x: torch.Tensor, r: int) -> torch.Tensor:
    return _checks.new_output(x, output_shape(x.shape, r, True))


@custom_op("srkit::upsample_tail", mutates_args=())
def _upsample_tail_op(
    x: torch.Tensor, r: int, skip: torch.Tensor | None, mean: torch.Tensor | None, lo: float | None, hi: float | None
) -> torch.Tensor:
    out = _empty(x, r)
    dispatch("upsample_tail", x.device, x.dtype)(x, r, skip, mean, lo, hi, out)
    return out


@_upsample_tail_op.register_fake
def _(x, r, skip, mean, lo, hi) -> torch.Tensor:
    return _empty(x, r)


def _setup(ctx, inputs, output) -> None:
    x, r, skip, mean, lo, hi = inputs
    ctx.r, ctx.lo, ctx.hi = r, lo, hi
    ctx.save_for_backward(x, skip, mean)


def _backward(ctx, g: torch.Tensor):
    x, skip, mean = ctx.saved_tensors
    if ctx.lo is not None or ctx.hi is not None:
        z = _upsample_tail_op(x, ctx.r, skip, mean, None, None)  # the pre-clamp value, recomputed
        keep = torch.ones_like(z, dtype=torch.bool)
        if ctx.lo is not None:
            keep &= z >= ctx.lo
        if ctx.hi is not None:
            keep &= z <= ctx.hi
        g = torch.where(keep, g, torch.zeros((), dtype=g.dtype, device=g.device))
    gx = _pixel_unshuffle_op(g, ctx.r) if ctx.needs_input_grad[0] else None
    gskip = g if skip is not None and ctx.needs_input_grad[2] else None
    gmean = (
        g.sum((0, 2, 3), dtype=torch.float32).to(mean.dtype) if mean is not None and ctx.needs_input_grad[3] else None
    )
    return gx, None, gskip, gmean, None, None


_upsample_tail_op.register_autograd(_backward, setup_context=_setup)


def upsample_tail(
    x: torch.Tensor,
    r: int,
    skip: torch.Tensor | None = None,
    mean: torch.Tensor | Sequence[float] | None = None,
    clamp: tuple[float | None, float | None] | None = None,
) -> torch.Tensor:
    """``clamp(pixel_shuffle(x, r) + skip + mean[c], *clamp)`` in one pass over memory.

    ``x``: (N, C r^2, H, W) float16/bfloat16/float32/float64, any layout; ``skip``: (N, C, H r, W r)
    of x's dtype and device; ``mean``: C values (added per output channel); ``clamp``: (lo, hi),
    either may be None. The output has x's dtype and memory format.
    """
    op = "upsample_tail"
    _checks.tensor4(x, "x", op)
    _checks.factor(r, op)
    _checks.float_dtype(x, "upsample_tail")
    n, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(
            f"srkit.upsample_tail: channels ({c}) must be divisible by r^2 = {r * r} (shape {tuple(x.shape)})"
        )
    oshape = output_shape(x.shape, r, True)
    if skip is not None:
        _checks.tensor4(skip, "skip", op)
        if tuple(skip.shape) != oshape:
            raise ValueError(f"srkit.upsample_tail: skip has shape {tuple(skip.shape)}, the output has {oshape}")
        if skip.dtype != x.dtype:
            raise TypeError(f"srkit.upsample_tail: skip dtype {skip.dtype} differs from x dtype {x.dtype}")
        _checks.same_device(x, skip, "x and skip", op)
    mean_t: torch.Tensor | None = None
    if mean is not None:
        mean_t = mean if isinstance(mean, torch.Tensor) else torch.tensor(list(mean), dtype=torch.float32)
        mean_t = mean_t.to(device=x.device, dtype=torch.float32)
        if mean_t.shape != (oshape[1],):
            raise ValueError(
                f"srkit.upsample_tail: mean must have {oshape[1]} values (one per output channel), got shape {tuple(mean_t.shape)}"
            )
    lo, hi = clamp if clamp is not None else (None, None)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"srkit.upsample_tail: clamp bounds are reversed ({lo} > {hi})")
    lo, hi = None if lo is None else float(lo), None if hi is None else float(hi)
    if reference_inline(op, x, skip, mean_t):
        return reference.upsample_tail(x, r, skip, mean_t, lo, hi)
    return call(_upsample_tail_op, x, r, skip, mean_t, lo, hi)
