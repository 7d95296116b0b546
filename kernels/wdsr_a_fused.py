"""WDSR-A's whole block in one Triton kernel, with halo recomputation:
``y = x + res_scale * (conv_k(relu(conv_k(x, W1) + b1), W2) + b2)``.

A program owns a TH x TW tile of one image. It computes the wide activation (E = expansion x C
channels) on the tile grown by k // 2 pixels on every side -- the halo, recomputed by each
neighbouring tile rather than exchanged -- in BE-channel slices, as implicit GEMMs on tensor cores,
and parks it in a program-private scratch slab (a few hundred KiB that stays in L2, not a tensor
E channels wide over the whole image). After a barrier it runs the second convolution from the
slab, adds the bias, scales and adds the residual, and writes the tile once. Halo pixels outside
the image hold zeros, which is the second convolution's zero padding. The grid is persistent
(at most ``programs`` programs walk the tiles), so the scratch is bounded whatever the input size.

This is the "fully fused" alternative to two ``conv_epilogue`` calls (which write the wide
activation to memory once and read it back once): it trades (TH + 2p)(TW + 2p) / (TH TW) times the
first convolution's FLOPs for that traffic. Which one wins is a measurement on the GPU
(``srkit-bench ops --only wdsr_a``).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from . import helpers


# Longer than 60 lines by design: one kernel whose tiles and accumulator stay in registers across its
# loops; Triton inlines @jit helpers, so splitting it would move lines, not simplify it.
@triton.jit(do_not_specialize=["H", "W", "tiles_w", "tiles"])  # sizes vary per image: one compile serves all
def _wdsr_a_fused_kernel(
    x_ptr,
    w1_ptr,
    b1_ptr,
    w2_ptr,
    b2_ptr,
    y_ptr,
    s_ptr,
    C,
    E,
    H,
    W,
    tiles_w,
    tiles,
    res_scale,
    xsn,
    xsc,
    xsh,
    xsw,
    ysn,
    ysc,
    ysh,
    ysw,
    K: tl.constexpr,
    TH: tl.constexpr,
    TW: tl.constexpr,
    HP: tl.constexpr,
    TP: tl.constexpr,
    BC: tl.constexpr,
    BE: tl.constexpr,
    PRECISION: tl.constexpr,
    DOT: tl.constexpr,
):
    PAD: tl.constexpr = K // 2
    HWID: tl.constexpr = TW + 2 * PAD
    HALO: tl.constexpr = (TH + 2 * PAD) * HWID
    pid = tl.program_id(0)
    slab = s_ptr + pid.to(tl.int64) * HP * E
    hp = tl.arange(0, HP)  # halo pixel of the tile
    op = tl.arange(0, TP)  # output pixel of the tile
    oh = op // TW
    ow = op % TW
    c = tl.arange(0, BC)
    cmask = c < C
    for t in range(pid, tiles, tl.num_programs(0)):
        per_image = tiles_w * tl.cdiv(H, TH)
        n = (t // per_image).to(tl.int64)
        r = t % per_image
        h0 = (r // tiles_w) * TH
        w0 = (r % tiles_w) * TW
        gh = h0 - PAD + hp // HWID
        gw = w0 - PAD + hp % HWID
        inside = (hp < HALO) & (gh >= 0) & (gh < H) & (gw >= 0) & (gw < W)
        # 1. the wide activation on the tile and its halo, slice by slice, into the slab; the taps
        # are a runtime loop (unrolled, their tiles stay live together and spill)
        for e0 in range(0, E, BE):
            e = e0 + tl.arange(0, BE)
            emask = e < E
            acc = tl.zeros([HP, BE], dtype=tl.float32)
            for tap in range(K * K):
                ih = gh + (tap // K - PAD)
                iw = gw + (tap % K - PAD)
                ok = inside & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
                pix = n * xsn + ih.to(tl.int64) * xsh + iw.to(tl.int64) * xsw
                xt = tl.load(
                    x_ptr + pix[:, None] + c[None, :].to(tl.int64) * xsc, mask=ok[:, None] & cmask[None, :], other=0.0
                )  # all C channels: BC >= C
                wt = tl.load(
                    w1_ptr + (tap * C + c[:, None]) * E + e[None, :], mask=cmask[:, None] & emask[None, :], other=0.0
                )
                acc += tl.dot(xt.to(DOT), wt.to(DOT), input_precision=PRECISION)
            acc += tl.load(b1_ptr + e, mask=emask, other=0.0).to(tl.float32)[None, :]
            acc = tl.where(inside[:, None], tl.maximum(acc, 0.0), 0.0)  # zero outside the image: conv 2's padding
            tl.store(slab + hp[:, None] * E + e[None, :], acc.to(y_ptr.dtype.element_ty), mask=emask[None, :])
        tl.debug_barrier()
        # 2. the narrowing conv from the slab, bias, res_scale and the residual
        out = tl.zeros([TP, BC], dtype=tl.float32)
        for tap in range(K * K):
            src = (oh + tap // K) * HWID + (ow + tap % K)
            for e0 in range(0, E, BE):
                e = e0 + tl.arange(0, BE)
                emask = e < E
                ht = tl.load(
                    slab + src[:, None] * E + e[None, :], mask=(op < TH * TW)[:, None] & emask[None, :], other=0.0
                )
                wt = tl.load(
                    w2_ptr + (tap * E + e[:, None]) * C + c[None, :], mask=emask[:, None] & cmask[None, :], other=0.0
                )
                out += tl.dot(ht.to(DOT), wt.to(DOT), input_precision=PRECISION)
        tl.debug_barrier()  # the slab is read before the next tile overwrites it
        out += tl.load(b2_ptr + c, mask=cmask, other=0.0).to(tl.float32)[None, :]
        yh = (h0 + oh).to(tl.int64)
        yw = (w0 + ow).to(tl.int64)
        m = ((op < TH * TW) & (yh < H) & (yw < W))[:, None] & cmask[None, :]
        res = tl.load(
            x_ptr + n * xsn + c[None, :].to(tl.int64) * xsc + (yh * xsh + yw * xsw)[:, None], mask=m, other=0.0
        )
        out = res.to(tl.float32) + res_scale * out
        tl.store(
            y_ptr + n * ysn + c[None, :].to(tl.int64) * ysc + (yh * ysh + yw * ysw)[:, None],
            out.to(y_ptr.dtype.element_ty),
            mask=m,
        )


def wdsr_a_fused(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    res_scale: float,
    out: torch.Tensor,
    *,
    tile: tuple[int, int] = (8, 8),
    programs: int | None = None,
    allow_tf32: bool = False,
) -> None:
    """Write the block's output into ``out``: w1 (E, C, k, k), w2 (C, E, k, k), biases, in x's dtype."""
    n, c, h, w = x.shape
    e, k = w1.shape[0], w1.shape[-1]
    if out.numel() == 0:
        return
    th, tw = tile
    pad = k // 2
    hp = triton.next_power_of_2((th + 2 * pad) * (tw + 2 * pad))
    tiles = n * triton.cdiv(h, th) * triton.cdiv(w, tw)
    if programs is None:
        programs = 4 * torch.cuda.get_device_properties(x.device).multi_processor_count if x.is_cuda else 8
    grid = min(tiles, programs)
    slab = torch.empty((grid, hp, e), dtype=x.dtype, device=x.device)  # each program's private scratch
    b1, b2 = b1.contiguous(), b2.contiguous()
    w1k = w1.permute(2, 3, 1, 0).contiguous()  # (k, k, C, E)
    w2k = w2.permute(2, 3, 1, 0).contiguous()  # (k, k, E, C)
    _wdsr_a_fused_kernel[(grid,)](
        x,
        w1k,
        b1,
        w2k,
        b2,
        out,
        slab,
        c,
        e,
        h,
        w,
        triton.cdiv(w, tw),
        tiles,
        float(res_scale),
        *x.stride(),
        *out.stride(),
        K=k,
        TH=th,
        TW=tw,
        HP=hp,
        TP=triton.next_power_of_2(th * tw),
        BC=max(16, triton.next_power_of_2(c)),
        BE=32,
        PRECISION=helpers.precision(x.dtype, allow_tf32),
        DOT=helpers.operand_type(x.dtype),
        # one stage: pipelining buffered every tap's tiles (569 KB of shared memory at C = 32 in fp32)
        num_warps=4,
        num_stages=1,
    )
