"""WDSR-B's pointwise pair in Triton: y = W2 relu(W1 x + b1) + b2 per pixel, as one kernel.

Each program takes BP pixels of one image and walks the wide dimension E in chunks of BE: it
computes a [BP, BE] slice of the wide activation with one tensor-core product, applies bias and
ReLU, and immediately multiplies it into the [BP, L] output accumulator. The wide activation
(E = expansion x C channels) therefore never touches global memory.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl


@triton.jit
def _wide_pointwise_kernel(
    x_ptr, w1_ptr, b1_ptr, w2_ptr, b2_ptr, y_ptr,
    C, E, L, HW, W,
    xsn, xsc, xsh, xsw, ysn, ysc, ysh, ysw,
    BP: tl.constexpr, BC: tl.constexpr, BE: tl.constexpr, BL: tl.constexpr, PRECISION: tl.constexpr,
    DOT: tl.constexpr,
):
    n = tl.program_id(1).to(tl.int64)
    p = tl.program_id(0) * BP + tl.arange(0, BP)
    pmask = p < HW
    h = (p // W).to(tl.int64)
    w = (p % W).to(tl.int64)
    c = tl.arange(0, BC)
    l = tl.arange(0, BL)
    x = tl.load(x_ptr + n * xsn + c[None, :].to(tl.int64) * xsc + (h * xsh + w * xsw)[:, None],
                mask=pmask[:, None] & (c < C)[None, :], other=0.0)
    acc = tl.zeros([BP, BL], dtype=tl.float32)
    for e0 in range(0, E, BE):
        e = e0 + tl.arange(0, BE)
        emask = e < E
        w1t = tl.load(w1_ptr + e[None, :] * C + c[:, None], mask=(c < C)[:, None] & emask[None, :], other=0.0)  # [BC, BE]
        hid = tl.dot(x.to(DOT), w1t.to(x.dtype).to(DOT), input_precision=PRECISION)
        hid += tl.load(b1_ptr + e, mask=emask, other=0.0).to(tl.float32)[None, :]
        hid = tl.maximum(hid, 0.0)
        w2t = tl.load(w2_ptr + l[None, :] * E + e[:, None], mask=emask[:, None] & (l < L)[None, :], other=0.0)  # [BE, BL]
        acc += tl.dot(hid.to(x.dtype).to(DOT), w2t.to(x.dtype).to(DOT), input_precision=PRECISION)
    acc += tl.load(b2_ptr + l, mask=l < L, other=0.0).to(tl.float32)[None, :]
    tl.store(y_ptr + n * ysn + l[None, :].to(tl.int64) * ysc + (h * ysh + w * ysw)[:, None],
             acc.to(y_ptr.dtype.element_ty), mask=pmask[:, None] & (l < L)[None, :])


def wide_pointwise(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
                   out: torch.Tensor, allow_tf32: bool = False) -> None:
    """Write W2 relu(W1 x + b1) + b2 into ``out``; w1 (E, C) and w2 (L, E) contiguous, in x's dtype."""
    n, c, h, w = x.shape
    e, l = w1.shape[0], w2.shape[0]
    if out.numel() == 0:
        return
    bc = max(16, triton.next_power_of_2(c))
    bl = max(16, triton.next_power_of_2(l))
    bp, be = 64, 32
    precision = "tf32" if (allow_tf32 and x.dtype == torch.float32) else "ieee"
    # Triton's CPU interpreter multiplies bfloat16 wrongly (numpy has no bfloat16): there, the operands,
    # already rounded to bfloat16, are multiplied in float32, which is what the tensor cores compute.
    interpreted_bf16 = x.dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1"
    dot = tl.float32 if interpreted_bf16 else {torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}.get(x.dtype, tl.float32)
    _wide_pointwise_kernel[(triton.cdiv(h * w, bp), n)](
        x, w1, b1, w2, b2, out, c, e, l, h * w, w, *x.stride(), *out.stride(),
        BP=bp, BC=bc, BE=be, BL=bl, PRECISION=precision, DOT=dot,
    )
