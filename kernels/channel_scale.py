"""x * s[n, c] in Triton (channel attention's scaling), arithmetic in float32 (float64 for float64)."""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .helpers import row_coords, row_grid, row_warps


@triton.jit(do_not_specialize=["H", "W"])  # sizes vary per image: one compile serves all
def _channel_scale_kernel(
    x_ptr,
    s_ptr,
    out_ptr,
    C,
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
):
    n, c, oh, ow, mask = row_coords(C, H, W, CHANNELS_LAST, BLOCK)
    v = tl.load(x_ptr + n * xsn + c * xsc + oh * xsh + ow * xsw, mask=mask).to(ACC)
    s = tl.load(s_ptr + n * C + c + 0 * ow, mask=mask).to(ACC)
    tl.store(out_ptr + n * osn + c * osc + oh * osh + ow * osw, (v * s).to(out_ptr.dtype.element_ty), mask=mask)


def channel_scale(x: torch.Tensor, s: torch.Tensor, out: torch.Tensor) -> None:
    """Write x * s[:, :, None, None] into ``out``; ``s`` is a contiguous (N, C) tensor."""
    if out.numel() == 0:
        return
    cl, rows, length, block = row_grid(out)
    _, c, h, w = out.shape
    acc = tl.float64 if x.dtype == torch.float64 else tl.float32
    _channel_scale_kernel[(rows, triton.cdiv(length, block))](
        x,
        s,
        out,
        c,
        h,
        w,
        *x.stride(),
        *out.stride(),
        ACC=acc,
        CHANNELS_LAST=cl,
        BLOCK=block,
        num_warps=row_warps(block),
        num_stages=1,
    )
