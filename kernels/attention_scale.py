"""Channel attention's squeeze-excite MLP fused into its scaling, in Triton:
``out = x * sigmoid(W2 relu(W1 (mean + std) + b1) + b2)[n, c]``.

Each program scales a block of one output row (as ``channel_scale`` does). It first recomputes the
tiny MLP of its image from the (N, C) statistics -- the hidden layer ([R] values from a [R, C]
product) once per program, then for each element the sigmoid of its channel's row of W2 -- so the
attention factors never exist in memory and no separate kernel launches for them. With the
two-pass ``channel_stats`` kernel before it, CCA is two passes over x: one read for the
statistics, one read and one write for the scaling. Arithmetic in float32 (float64 for float64).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .helpers import row_coords, row_grid, row_warps


@triton.jit(do_not_specialize=["H", "W"])  # sizes vary per image: one compile serves all
def _attention_scale_kernel(
    x_ptr,
    mean_ptr,
    std_ptr,
    w1_ptr,
    b1_ptr,
    w2_ptr,
    b2_ptr,
    out_ptr,
    C,
    R,
    H,
    W,
    xsn,
    xsc,
    xsh,
    xsw,
    osn,
    osc,
    osh,
    osw,
    ACC: tl.constexpr,
    CHANNELS_LAST: tl.constexpr,
    BLOCK: tl.constexpr,
    BC: tl.constexpr,
    BR: tl.constexpr,
):
    n, c, oh, ow, mask = row_coords(C, H, W, CHANNELS_LAST, BLOCK)
    row = tl.program_id(0).to(tl.int64)
    img = row // H if CHANNELS_LAST else row // (H * C)
    cc = tl.arange(0, BC)
    cmask = cc < C
    contrast = tl.load(mean_ptr + img * C + cc, mask=cmask, other=0.0).to(ACC) + tl.load(
        std_ptr + img * C + cc, mask=cmask, other=0.0
    ).to(ACC)
    j = tl.arange(0, BR)
    jmask = j < R
    w1 = tl.load(w1_ptr + j[:, None] * C + cc[None, :], mask=jmask[:, None] & cmask[None, :], other=0.0).to(ACC)
    hid = tl.sum(w1 * contrast[None, :], axis=1) + tl.load(b1_ptr + j, mask=jmask, other=0.0).to(ACC)
    hid = tl.maximum(hid, 0.0)
    ch = c + 0 * ow  # each element's channel (one value per program in NCHW rows)
    w2 = tl.load(w2_ptr + ch[:, None] * R + j[None, :], mask=mask[:, None] & jmask[None, :], other=0.0).to(ACC)
    z = tl.sum(w2 * hid[None, :], axis=1) + tl.load(b2_ptr + ch, mask=mask, other=0.0).to(ACC)
    s = 1.0 / (1.0 + tl.exp(-z))
    v = tl.load(x_ptr + n * xsn + c * xsc + oh * xsh + ow * xsw, mask=mask).to(ACC)
    tl.store(out_ptr + n * osn + c * osc + oh * osh + ow * osw, (v * s).to(out_ptr.dtype.element_ty), mask=mask)


def attention_scale(
    x: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    out: torch.Tensor,
) -> None:
    """Write the scaled x into ``out``; statistics (N, C) and weights w1 (R, C), b1 (R,), w2 (C, R),
    b2 (C,) contiguous in the statistics' dtype."""
    if out.numel() == 0:
        return
    cl, rows, length, block = row_grid(out)
    _, c, h, w = out.shape
    r = w1.shape[0]
    acc = tl.float64 if x.dtype == torch.float64 else tl.float32
    _attention_scale_kernel[(rows, triton.cdiv(length, block))](
        x,
        mean,
        std,
        w1,
        b1,
        w2,
        b2,
        out,
        c,
        r,
        h,
        w,
        *x.stride(),
        *out.stride(),
        ACC=acc,
        CHANNELS_LAST=cl,
        BLOCK=block,
        BC=triton.next_power_of_2(c),
        BR=max(2, triton.next_power_of_2(r)),
        num_warps=row_warps(block),
        num_stages=1,
    )
