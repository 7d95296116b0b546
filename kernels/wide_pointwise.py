"""WDSR-B's pointwise pair in Triton: y = W2 relu(W1 x + b1) + b2 per pixel, as one kernel.

Each program takes BP pixels of one image and walks the wide dimension E in chunks of BE: it
computes a [BP, BE] slice of the wide activation with one tensor-core product, applies bias and
ReLU, and immediately multiplies it into the [BP, L] output accumulator. The wide activation
(E = expansion x C channels) therefore never touches global memory.

The backward kernel walks the same tiles: it recomputes each [BP, BE] slice of the wide activation
from x, forms its gradient from g (masked by the ReLU), adds that slice's share to the input
gradient in registers, and adds the tile's weight and bias gradients (sums over its pixels) to
float32 buffers atomically. Neither pass stores anything E channels wide.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from . import helpers


@triton.jit
def _pixel_tile(HW, W, BP: tl.constexpr):
    """(image, pixel mask, rows, columns) of this program's BP pixels."""
    n = tl.program_id(1).to(tl.int64)
    p = tl.program_id(0) * BP + tl.arange(0, BP)
    return n, p < HW, (p // W).to(tl.int64), (p % W).to(tl.int64)


@triton.jit
def _load_tile(ptr, n, pmask, h, w, ch, CH, sn, sc, sh, sw):
    """The [pixels, channels] tile of a strided (N, CH, H, W) tensor; zero where masked."""
    return tl.load(
        ptr + n * sn + ch[None, :].to(tl.int64) * sc + (h * sh + w * sw)[:, None],
        mask=pmask[:, None] & (ch < CH)[None, :],
        other=0.0,
    )


@triton.jit(do_not_specialize=["HW", "W"])  # sizes vary per image: one compile serves all
def _wide_pointwise_kernel(
    x_ptr,
    w1_ptr,
    b1_ptr,
    w2_ptr,
    b2_ptr,
    y_ptr,
    C,
    E,
    L,
    HW,
    W,
    xsn,
    xsc,
    xsh,
    xsw,
    ysn,
    ysc,
    ysh,
    ysw,
    BP: tl.constexpr,
    BC: tl.constexpr,
    BE: tl.constexpr,
    BL: tl.constexpr,
    PRECISION: tl.constexpr,
    DOT: tl.constexpr,
):
    n, pmask, h, w = _pixel_tile(HW, W, BP)
    c = tl.arange(0, BC)
    l = tl.arange(0, BL)
    x = _load_tile(x_ptr, n, pmask, h, w, c, C, xsn, xsc, xsh, xsw)
    acc = tl.zeros([BP, BL], dtype=tl.float32)
    for e0 in range(0, E, BE):
        e = e0 + tl.arange(0, BE)
        emask = e < E
        w1t = tl.load(
            w1_ptr + e[None, :] * C + c[:, None], mask=(c < C)[:, None] & emask[None, :], other=0.0
        )  # [BC, BE]
        hid = tl.dot(x.to(DOT), w1t.to(x.dtype).to(DOT), input_precision=PRECISION)
        hid += tl.load(b1_ptr + e, mask=emask, other=0.0).to(tl.float32)[None, :]
        hid = tl.maximum(hid, 0.0)
        w2t = tl.load(
            w2_ptr + l[None, :] * E + e[:, None], mask=emask[:, None] & (l < L)[None, :], other=0.0
        )  # [BE, BL]
        acc += tl.dot(hid.to(x.dtype).to(DOT), w2t.to(x.dtype).to(DOT), input_precision=PRECISION)
    acc += tl.load(b2_ptr + l, mask=l < L, other=0.0).to(tl.float32)[None, :]
    tl.store(
        y_ptr + n * ysn + l[None, :].to(tl.int64) * ysc + (h * ysh + w * ysw)[:, None],
        acc.to(y_ptr.dtype.element_ty),
        mask=pmask[:, None] & (l < L)[None, :],
    )


def wide_pointwise(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    out: torch.Tensor,
    allow_tf32: bool = False,
) -> None:
    """Write W2 relu(W1 x + b1) + b2 into ``out``; w1 (E, C) and w2 (L, E) contiguous, in x's dtype."""
    n, c, h, w = x.shape
    e, l = w1.shape[0], w2.shape[0]
    if out.numel() == 0:
        return
    meta = launch(x, c, l, allow_tf32, backward=False)
    _wide_pointwise_kernel[(triton.cdiv(h * w, meta["BP"]), n)](
        x,
        w1,
        b1,
        w2,
        b2,
        out,
        c,
        e,
        l,
        h * w,
        w,
        *x.stride(),
        *out.stride(),
        **meta,
    )


# (pixels, wide channels per step, warps) by kernel and product type, from the compile gate
# (``python -m srkit.profiler.kernel_gate``): the largest tiles that spill on neither sm_80 nor sm_90.
# The backward holds five [pixels, channels] tiles at once (64 x 32 spilled 5-11 KB per thread in
# fp32 at C = 64); IEEE fp32 (FMA products, only when TF32 is turned off) keeps its operands in
# registers. Tensor-core forms keep 64 pixels, the least wgmma takes on sm_90; every product's K is
# at least 16, the least Triton 3.6 accepts (3.9 takes 8). The 16-pixel IEEE forward takes 2 warps
# (4 spilled 8 B on sm_90 at C >= 48, channels_last).
TILES = {
    (False, "half"): (64, 32, 4),
    (False, "tf32"): (64, 32, 4),
    (False, "ieee"): (16, 16, 2),
    (True, "half"): (64, 16, 8),
    (True, "tf32"): (64, 16, 8),
    (True, "ieee"): (16, 16, 8),
}


def launch(x: torch.Tensor, c: int, l: int, allow_tf32: bool, backward: bool) -> dict[str, object]:
    """Tile sizes, product types, warps and stages for either kernel. One stage in the backward:
    its loads feed chained products that pipelining would only buffer in shared memory."""
    precision = helpers.precision(x.dtype, allow_tf32)
    bp, be, warps = TILES[(backward, precision if x.dtype == torch.float32 else "half")]
    return {
        "BP": bp,
        "BC": max(16, triton.next_power_of_2(c)),
        "BE": be,
        "BL": max(16, triton.next_power_of_2(l)),
        "PRECISION": precision,
        "DOT": helpers.operand_type(x.dtype),
        "num_warps": warps,
        "num_stages": 1 if backward else 2,
    }


# Longer than 60 lines by design: one kernel whose tiles and accumulator stay in registers across its
# loops; Triton inlines @jit helpers, so splitting it would move lines, not simplify it.
@triton.jit(do_not_specialize=["HW", "W"])  # sizes vary per image: one compile serves all
def _wide_pointwise_backward_kernel(
    x_ptr,
    g_ptr,
    w1_ptr,
    b1_ptr,
    w2_ptr,
    gx_ptr,
    gw1_ptr,
    gb1_ptr,
    gw2_ptr,
    gb2_ptr,
    C,
    E,
    L,
    HW,
    W,
    xsn,
    xsc,
    xsh,
    xsw,
    gsn,
    gsc,
    gsh,
    gsw,
    osn,
    osc,
    osh,
    osw,
    BP: tl.constexpr,
    BC: tl.constexpr,
    BE: tl.constexpr,
    BL: tl.constexpr,
    PRECISION: tl.constexpr,
    DOT: tl.constexpr,
):
    n, pmask, h, w = _pixel_tile(HW, W, BP)
    c = tl.arange(0, BC)
    l = tl.arange(0, BL)
    cmask = c < C
    lmask = l < L
    x = _load_tile(x_ptr, n, pmask, h, w, c, C, xsn, xsc, xsh, xsw)
    g = _load_tile(g_ptr, n, pmask, h, w, l, L, gsn, gsc, gsh, gsw)  # zero on padded pixels: they add nothing
    xd = x.to(DOT)
    gd = g.to(DOT)
    gx = tl.zeros([BP, BC], dtype=tl.float32)
    for e0 in range(0, E, BE):
        e = e0 + tl.arange(0, BE)
        emask = e < E
        w1t = tl.load(w1_ptr + e[None, :] * C + c[:, None], mask=cmask[:, None] & emask[None, :], other=0.0)  # [BC, BE]
        pre = tl.dot(xd, w1t.to(x.dtype).to(DOT), input_precision=PRECISION)
        pre += tl.load(b1_ptr + e, mask=emask, other=0.0).to(tl.float32)[None, :]
        hid = tl.maximum(pre, 0.0).to(x.dtype).to(DOT)  # as the forward rounded it
        w2e = tl.load(w2_ptr + l[:, None] * E + e[None, :], mask=lmask[:, None] & emask[None, :], other=0.0)  # [BL, BE]
        ghid = tl.where(pre > 0, tl.dot(gd, w2e.to(x.dtype).to(DOT), input_precision=PRECISION), 0.0)  # [BP, BE]
        ghd = ghid.to(x.dtype).to(DOT)
        gx += tl.dot(ghd, tl.trans(w1t.to(x.dtype).to(DOT)), input_precision=PRECISION)
        # this tile's share of the weight gradients, summed over its pixels, added atomically
        tl.atomic_add(
            gw1_ptr + e[:, None] * C + c[None, :],
            tl.dot(tl.trans(ghd), xd, input_precision=PRECISION),
            mask=emask[:, None] & cmask[None, :],
        )
        tl.atomic_add(
            gw2_ptr + l[:, None] * E + e[None, :],
            tl.dot(tl.trans(gd), hid, input_precision=PRECISION),
            mask=lmask[:, None] & emask[None, :],
        )
        tl.atomic_add(gb1_ptr + e, tl.sum(ghid, axis=0), mask=emask)
    tl.atomic_add(gb2_ptr + l, tl.sum(g.to(tl.float32), axis=0), mask=lmask)
    tl.store(
        gx_ptr + n * osn + c[None, :].to(tl.int64) * osc + (h * osh + w * osw)[:, None],
        gx.to(gx_ptr.dtype.element_ty),
        mask=pmask[:, None] & cmask[None, :],
    )


def wide_pointwise_backward(
    x: torch.Tensor,
    g: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    gx: torch.Tensor,
    gw1: torch.Tensor,
    gb1: torch.Tensor,
    gw2: torch.Tensor,
    gb2: torch.Tensor,
    allow_tf32: bool = False,
) -> None:
    """The gradients of ``W2 relu(W1 x + b1) + b2`` for the output gradient ``g``, the wide
    activation recomputed tile by tile and never stored: ``gx`` written (x's dtype), the weight and
    bias gradients summed atomically into the float32 buffers gw1 (E, C), gb1 (E,), gw2 (L, E),
    gb2 (L,), which this zeroes first."""
    n, c, h, w = x.shape
    e, l = w1.shape[0], w2.shape[0]
    for t in (gw1, gb1, gw2, gb2):
        t.zero_()
    if x.numel() == 0 or g.numel() == 0:
        if gx.numel():
            gx.zero_()
        return
    meta = launch(x, c, l, allow_tf32, backward=True)
    _wide_pointwise_backward_kernel[(triton.cdiv(h * w, meta["BP"]), n)](
        x,
        g,
        w1,
        b1,
        w2,
        gx,
        gw1,
        gb1,
        gw2,
        gb2,
        c,
        e,
        l,
        h * w,
        w,
        *x.stride(),
        *g.stride(),
        *gx.stride(),
        **meta,
    )
