"""What srkit's Triton kernels share: the row-per-program launch of the layout kernels (pixel
shuffle, the tail, channel scaling) and their sub-pixel index map, the operand type and product
precision of the tensor-core kernels (wide_pointwise, conv_epilogue, wdsr_a_fused), and the probe
the dispatcher launches to learn whether Triton runs here at all."""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl


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


def operand_type(dtype: torch.dtype) -> tl.dtype:
    """fp16 and bf16 multiply as themselves, fp32 as fp32. Triton's CPU interpreter multiplies
    bfloat16 wrongly (numpy has no bfloat16): there the operands, already rounded to bfloat16, are
    multiplied in float32, which is what the tensor cores compute."""
    if dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1":
        return tl.float32
    return {torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}.get(dtype, tl.float32)


def precision(dtype: torch.dtype, allow_tf32: bool) -> str:
    """``tf32`` for float32 products only when the caller allows it, else ``ieee``."""
    return "tf32" if (allow_tf32 and dtype == torch.float32) else "ieee"


@triton.jit
def _probe_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    k = tl.arange(0, BLOCK)
    mask = k < n
    tl.store(out_ptr + k, tl.load(x_ptr + k, mask=mask) * 2 + 1, mask=mask)


def probe(x: torch.Tensor, out: torch.Tensor) -> None:
    """``out = 2 x + 1`` for contiguous 1-D tensors of at most 64 elements: a launch that belongs to
    no op, so no op's kernel decides whether every op's Triton backend is usable."""
    _probe_kernel[(1,)](x, out, x.numel(), BLOCK=64)
