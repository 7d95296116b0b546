"""pixel_shuffle / pixel_unshuffle in Triton: a strided gather, bit-exact for every dtype.

Each program handles one output row: an (n, c, oh) row of an NCHW output, or the whole (ow, c)
plane of an (n, oh) row of a channels_last output, so stores are contiguous either way and the
index arithmetic that needs a division happens once per row.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .helpers import row_coords, row_grid, row_warps, shuffle_source


@triton.jit(do_not_specialize=["H", "W"])  # sizes vary per image: one compile serves all
def _pixel_shuffle_kernel(
    in_ptr,
    out_ptr,
    C,
    H,
    W,
    isn,
    isc,
    ish,
    isw,
    osn,
    osc,
    osh,
    osw,
    R: tl.constexpr,
    SHUFFLE: tl.constexpr,
    CHANNELS_LAST: tl.constexpr,
    BLOCK: tl.constexpr,
):
    n, c, oh, ow, mask = row_coords(C, H, W, CHANNELS_LAST, BLOCK)
    ic, ih, iw = shuffle_source(c, oh, ow, R, SHUFFLE)
    v = tl.load(in_ptr + n * isn + ic * isc + ih * ish + iw * isw, mask=mask)
    tl.store(out_ptr + n * osn + c * osc + oh * osh + ow * osw, v, mask=mask)


def pixel_shuffle(x: torch.Tensor, r: int, out: torch.Tensor, shuffle: bool = True) -> torch.Tensor:
    """Write pixel_shuffle(x, r) (or pixel_unshuffle when ``shuffle=False``) into ``out``."""
    if out.numel() == 0:
        return out
    cl, rows, length, block = row_grid(out)
    _, c, h, w = out.shape
    grid = (rows, triton.cdiv(length, block))
    _pixel_shuffle_kernel[grid](
        x,
        out,
        c,
        h,
        w,
        *x.stride(),
        *out.stride(),
        R=r,
        SHUFFLE=shuffle,
        CHANNELS_LAST=cl,
        BLOCK=block,
        num_warps=row_warps(block),
        num_stages=1,
    )
    return out
