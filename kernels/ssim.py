"""Batched SSIM in Triton (Wang et al.: 11x11 Gaussian, sigma 1.5, 'valid' region), float64.

Grid (tiles, planes, N): each program computes a BH x BW tile of one plane's SSIM map and writes
the tile's sum; per-image totals are the row sums of the partials. The window is walked by two
runtime loops (rows, then the taps of a row, each row's weighted sums folded in with the row's
weight), not unrolled: an unrolled 11 x 11 window with the protocol's conversion at every tap is
hundreds of float64 operations per tap position, minutes of compile time and spilled registers.
The luma is taken with pre-divided weights (``DIVIDE=False``): no float64 division per tap.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .protocol import multipliers, protocol_value

WIN = 11
BH = 16
BW = 32


# Longer than 60 lines by design: one kernel whose tiles and accumulator stay in registers across its
# loops; Triton inlines @jit helpers, so splitting it would move lines, not simplify it.
@triton.jit(do_not_specialize=["Ho", "Wo", "shave", "tiles_w"])  # sizes vary per image: one compile serves all
def _ssim_kernel(
    sr_ptr,
    hr_ptr,
    gauss_ptr,
    partial_ptr,
    Ho,
    Wo,
    shave,
    tiles_w,
    ssn,
    ssc,
    ssh,
    ssw,
    hsn,
    hsc,
    hsh,
    hsw,
    mul_ptr,
    QUANTIZE: tl.constexpr,
    Y_ONLY: tl.constexpr,
    WIN: tl.constexpr,
    BH: tl.constexpr,
    BW: tl.constexpr,
):
    t = tl.program_id(0)
    sr_mul = tl.load(mul_ptr)
    hr_mul = tl.load(mul_ptr + 1)
    p = tl.program_id(1).to(tl.int64)
    n = tl.program_id(2).to(tl.int64)
    oy = ((t // tiles_w) * BH + tl.arange(0, BH)).to(tl.int64)[:, None]
    ox = ((t % tiles_w) * BW + tl.arange(0, BW)).to(tl.int64)[None, :]
    valid = (oy < Ho) & (ox < Wo)
    mu1 = tl.zeros([BH, BW], dtype=tl.float64)
    mu2 = tl.zeros([BH, BW], dtype=tl.float64)
    s11 = tl.zeros([BH, BW], dtype=tl.float64)
    s22 = tl.zeros([BH, BW], dtype=tl.float64)
    s12 = tl.zeros([BH, BW], dtype=tl.float64)
    for i in range(WIN):
        gi = tl.load(gauss_ptr + i)
        h1 = tl.zeros([BH, BW], dtype=tl.float64)
        h2 = tl.zeros([BH, BW], dtype=tl.float64)
        h11 = tl.zeros([BH, BW], dtype=tl.float64)
        h22 = tl.zeros([BH, BW], dtype=tl.float64)
        h12 = tl.zeros([BH, BW], dtype=tl.float64)
        y = oy + i + shave
        for j in range(WIN):
            gj = tl.load(gauss_ptr + j)
            x = ox + j + shave
            a = protocol_value(
                sr_ptr, n * ssn + p * ssc + y * ssh + x * ssw, ssc, valid, sr_mul, QUANTIZE, Y_ONLY, False
            )
            b = protocol_value(
                hr_ptr, n * hsn + p * hsc + y * hsh + x * hsw, hsc, valid, hr_mul, QUANTIZE, Y_ONLY, False
            )
            ga = gj * a
            gb = gj * b
            h1 += ga
            h2 += gb
            h11 += ga * a
            h22 += gb * b
            h12 += ga * b
        mu1 += gi * h1
        mu2 += gi * h2
        s11 += gi * h11
        s22 += gi * h22
        s12 += gi * h12
    # float64 constants spelled out: a bare Python float in a kernel may be typed float32
    c1 = tl.full([], (0.01 * 255.0) * (0.01 * 255.0), tl.float64)
    c2 = tl.full([], (0.03 * 255.0) * (0.03 * 255.0), tl.float64)
    mu12 = mu1 * mu2
    num = (2.0 * mu12 + c1) * (2.0 * (s12 - mu12) + c2)
    den = (mu1 * mu1 + mu2 * mu2 + c1) * ((s11 - mu1 * mu1) + (s22 - mu2 * mu2) + c2)
    val = tl.where(valid, num / den, 0.0)
    tiles = tl.num_programs(0)
    tl.store(partial_ptr + (n * tl.num_programs(1) + p) * tiles + t, tl.sum(tl.sum(val, axis=1), axis=0))


def ssim_sum(
    sr: torch.Tensor,
    hr: torch.Tensor,
    sr_mul: float,
    hr_mul: float,
    quantize: bool,
    y_only: bool,
    shave: int,
    gauss: torch.Tensor,
) -> torch.Tensor:
    """Per-image float64 sum of the SSIM map over the compared planes; ``gauss`` is float64[11]."""
    n, c, h, w = sr.shape
    planes = 1 if y_only else c
    ho, wo = h - 2 * shave - (WIN - 1), w - 2 * shave - (WIN - 1)
    tiles_w = triton.cdiv(wo, BW)
    tiles = triton.cdiv(ho, BH) * tiles_w
    partial = torch.empty((n, planes * tiles), dtype=torch.float64, device=sr.device)
    if n and tiles:
        _ssim_kernel[(tiles, planes, n)](
            sr,
            hr,
            gauss,
            partial,
            ho,
            wo,
            shave,
            tiles_w,
            *sr.stride(),
            *hr.stride(),
            multipliers(sr_mul, hr_mul, sr.device),
            QUANTIZE=quantize,
            Y_ONLY=y_only,
            WIN=WIN,
            BH=BH,
            BW=BW,
            num_warps=4,
            num_stages=1,
        )
    return partial.sum(1)
