"""pixel_shuffle / pixel_unshuffle in Triton: a strided gather, bit-exact for every dtype.

Each program handles one output row: an (n, c, oh) row of an NCHW output, or the whole (ow, c)
plane of an (n, oh) row of a channels_last output, so stores are contiguous either way and the
index arithmetic that needs a division happens once per row.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def shuffle_source(c, oh, ow, R: tl.constexpr, SHUFFLE: tl.constexpr):
    """Input (channel, row, column) read by output element (c, oh, ow)."""
    if SHUFFLE:
        ic = c * (R * R) + (oh % R) * R + (ow % R)
        ih = oh // R
        iw = ow // R
    else:
        ic = c // (R * R)
        ih = oh * R + (c // R) % R
        iw = ow * R + c % R
    return ic, ih, iw


@triton.jit
def row_coords(C, H, W, CHANNELS_LAST: tl.constexpr, BLOCK: tl.constexpr):
    """(n, c, oh, ow, mask) of this program's block of one output row (see ``row_grid``)."""
    row = tl.program_id(0).to(tl.int64)
    k = tl.program_id(1).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    oh = row % H
    if CHANNELS_LAST:
        n = row // H
        c = k % C
        ow = k // C
        mask = k < W * C
    else:
        c = (row // H) % C
        n = row // (H * C)
        ow = k
        mask = k < W
    return n, c, oh, ow, mask


@triton.jit(do_not_specialize=['H', 'W'])  # sizes vary per image: one compile serves all
def _pixel_shuffle_kernel(
    in_ptr, out_ptr, C, H, W,
    isn, isc, ish, isw, osn, osc, osh, osw,
    R: tl.constexpr, SHUFFLE: tl.constexpr, CHANNELS_LAST: tl.constexpr, BLOCK: tl.constexpr,
):
    n, c, oh, ow, mask = row_coords(C, H, W, CHANNELS_LAST, BLOCK)
    ic, ih, iw = shuffle_source(c, oh, ow, R, SHUFFLE)
    v = tl.load(in_ptr + n * isn + ic * isc + ih * ish + iw * isw, mask=mask)
    tl.store(out_ptr + n * osn + c * osc + oh * osh + ow * osw, v, mask=mask)


def row_grid(out: torch.Tensor) -> tuple[bool, int, int, int]:
    """(channels_last, rows, row length, block) for a row-per-program launch over `out`."""
    n, c, h, w = out.shape
    cl = out.stride(1) == 1 and c > 1
    rows, length = (n * h, w * c) if cl else (n * c * h, w)
    block = min(1024, max(16, triton.next_power_of_2(max(length, 1))))
    return cl, rows, length, block


def row_warps(block: int) -> int:
    """Warps for a row block: 8 elements a thread (one 16-32 B vector), 1 to 8 warps."""
    return max(1, min(8, block // 256))


def pixel_shuffle(x: torch.Tensor, r: int, out: torch.Tensor, shuffle: bool = True) -> torch.Tensor:
    """Write pixel_shuffle(x, r) (or pixel_unshuffle when ``shuffle=False``) into ``out``."""
    if out.numel() == 0:
        return out
    cl, rows, length, block = row_grid(out)
    _, c, h, w = out.shape
    grid = (rows, triton.cdiv(length, block))
    _pixel_shuffle_kernel[grid](
        x, out, c, h, w, *x.stride(), *out.stride(),
        R=r, SHUFFLE=shuffle, CHANNELS_LAST=cl, BLOCK=block, num_warps=row_warps(block), num_stages=1,
    )
    return out
