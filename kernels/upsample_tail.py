"""The fused sub-pixel tail in Triton: out = clamp(pixel_shuffle(x, r) [+ skip] [+ mean[c]]).

One read of x (and skip), one write of out; arithmetic in float32 (float64 for float64 tensors).
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

from .helpers import row_coords, row_grid, row_warps, shuffle_source


@triton.jit(do_not_specialize=["H", "W"])  # sizes vary per image: one compile serves all
def _upsample_tail_kernel(
    x_ptr,
    skip_ptr,
    mean_ptr,
    out_ptr,
    C,
    H,
    W,
    xsn,
    xsc,
    xsh,
    xsw,
    ssn,
    ssc,
    ssh,
    ssw,
    osn,
    osc,
    osh,
    osw,
    bounds_ptr,
    R: tl.constexpr,
    HAS_SKIP: tl.constexpr,
    HAS_MEAN: tl.constexpr,
    HAS_LO: tl.constexpr,
    HAS_HI: tl.constexpr,
    CHANNELS_LAST: tl.constexpr,
    ACC: tl.constexpr,
    BLOCK: tl.constexpr,
):
    n, c, oh, ow, mask = row_coords(C, H, W, CHANNELS_LAST, BLOCK)
    ic, ih, iw = shuffle_source(c, oh, ow, R, True)
    v = tl.load(x_ptr + n * xsn + ic * xsc + ih * xsh + iw * xsw, mask=mask).to(ACC)
    if HAS_SKIP:
        v += tl.load(skip_ptr + n * ssn + c * ssc + oh * ssh + ow * ssw, mask=mask).to(ACC)
    if HAS_MEAN:
        v += tl.load(mean_ptr + c + 0 * ow, mask=mask).to(ACC)
    if HAS_LO:  # comparisons keep NaN, as torch.clamp does
        lo = tl.load(bounds_ptr).to(ACC)
        v = tl.where(v < lo, lo, v)
    if HAS_HI:
        hi = tl.load(bounds_ptr + 1).to(ACC)
        v = tl.where(v > hi, hi, v)
    tl.store(out_ptr + n * osn + c * osc + oh * osh + ow * osw, v.to(out_ptr.dtype.element_ty), mask=mask)


@functools.lru_cache(maxsize=64)
def _bounds(lo: float | None, hi: float | None, float64: bool, device: torch.device) -> torch.Tensor:
    """Clamp bounds as a tensor (a Python float kernel argument would be float32), cached per device."""
    dt = torch.float64 if float64 else torch.float32
    return torch.tensor([lo if lo is not None else 0.0, hi if hi is not None else 0.0], dtype=dt, device=device)


def upsample_tail(
    x: torch.Tensor,
    r: int,
    skip: torch.Tensor | None,
    mean: torch.Tensor | None,
    lo: float | None,
    hi: float | None,
    out: torch.Tensor,
) -> torch.Tensor:
    """Write clamp(pixel_shuffle(x, r) + skip + mean) into ``out``; ``mean`` is float32[C_out]."""
    if out.numel() == 0:
        return out
    cl, rows, length, block = row_grid(out)
    _, c, h, w = out.shape
    s = skip if skip is not None else out
    m = mean if mean is not None else out
    acc = tl.float64 if x.dtype == torch.float64 else tl.float32
    bounds = out if lo is None and hi is None else _bounds(lo, hi, x.dtype == torch.float64, x.device)
    _upsample_tail_kernel[(rows, triton.cdiv(length, block))](
        x,
        s,
        m,
        out,
        c,
        h,
        w,
        *x.stride(),
        *s.stride(),
        *out.stride(),
        bounds,
        R=r,
        HAS_SKIP=skip is not None,
        HAS_MEAN=mean is not None,
        HAS_LO=lo is not None,
        HAS_HI=hi is not None,
        CHANNELS_LAST=cl,
        ACC=acc,
        BLOCK=block,
        num_warps=row_warps(block),
        num_stages=1,
    )
    return out
