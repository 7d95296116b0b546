"""Batched squared error for PSNR in Triton, on the protocol's 0..255 scale, float64 throughout.

Grid (blocks per image, N): each program sums ROWS rows of the shaved planes into one float64
partial; the per-image totals are the row sums of the partials (deterministic, no atomics).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .helpers import row_warps
from .protocol import multipliers, protocol_value

ROWS = 4


@triton.jit(do_not_specialize=["Hs", "Ws", "shave", "blocks"])  # sizes vary per image: one compile serves all
def _sse_kernel(
    sr_ptr,
    hr_ptr,
    partial_ptr,
    planes,
    Hs,
    Ws,
    shave,
    ssn,
    ssc,
    ssh,
    ssw,
    hsn,
    hsc,
    hsh,
    hsw,
    mul_ptr,
    blocks,
    QUANTIZE: tl.constexpr,
    Y_ONLY: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_W: tl.constexpr,
):
    pb = tl.program_id(0)
    n = tl.program_id(1).to(tl.int64)
    sr_mul = tl.load(mul_ptr)
    hr_mul = tl.load(mul_ptr + 1)
    acc = tl.zeros([BLOCK_W], dtype=tl.float64)
    for i in range(ROWS):
        pr = (pb * ROWS + i).to(tl.int64)
        p = pr // Hs
        h = pr % Hs + shave
        for w0 in range(0, Ws, BLOCK_W):
            w = w0 + tl.arange(0, BLOCK_W) + shave
            # (the row test is broadcast explicitly: Triton's interpreter rejects scalar & vector masks)
            m = (w < Ws + shave) & ((w * 0 + pr) < planes * Hs)
            a = protocol_value(sr_ptr, n * ssn + p * ssc + h * ssh + w * ssw, ssc, m, sr_mul, QUANTIZE, Y_ONLY)
            b = protocol_value(hr_ptr, n * hsn + p * hsc + h * hsh + w * hsw, hsc, m, hr_mul, QUANTIZE, Y_ONLY)
            d = tl.where(m, a - b, 0.0)
            acc += d * d
    tl.store(partial_ptr + n * blocks + pb, tl.sum(acc, axis=0))


def sse(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> torch.Tensor:
    """Per-image float64 sum of squared error over the shaved (luma or all) planes."""
    n, c, h, w = sr.shape
    planes, hs, ws = (1 if y_only else c), h - 2 * shave, w - 2 * shave
    blocks = triton.cdiv(planes * hs, ROWS)
    partial = torch.empty((n, blocks), dtype=torch.float64, device=sr.device)
    if n and blocks:
        block_w = min(1024, max(16, triton.next_power_of_2(ws)))
        _sse_kernel[(blocks, n)](
            sr,
            hr,
            partial,
            planes,
            hs,
            ws,
            shave,
            *sr.stride(),
            *hr.stride(),
            multipliers(sr_mul, hr_mul, sr.device),
            blocks,
            QUANTIZE=quantize,
            Y_ONLY=y_only,
            ROWS=ROWS,
            BLOCK_W=block_w,
            num_warps=row_warps(block_w),
            num_stages=1,
        )
    return partial.sum(1)
