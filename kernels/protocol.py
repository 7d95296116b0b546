"""The evaluation protocol's per-pixel preprocessing, shared by the PSNR and SSIM kernels.

Values are brought to the 0..255 scale in float64, optionally rounded like MATLAB's im2uint8
(half away from zero, saturated), and, for ``Y_ONLY``, reduced to MATLAB rgb2ycbcr's luma.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl


@functools.lru_cache(maxsize=64)
def multipliers(sr_mul: float, hr_mul: float, device: torch.device) -> torch.Tensor:
    """The two scale factors as a float64 tensor (a Python float kernel argument would be float32),
    cached so that a GPU call does not pay a host-to-device copy each time."""
    return torch.tensor([sr_mul, hr_mul], dtype=torch.float64, device=device)


@triton.jit
def to255(v, mul, QUANTIZE: tl.constexpr):
    v = v.to(tl.float64) * mul
    if QUANTIZE:  # comparisons (not min/max) so that NaN survives and is reported
        v = tl.where(v < 0.0, 0.0, v)
        v = tl.where(v > 255.0, 255.0, v)
        v = tl.floor(v + 0.5)
    return v


@triton.jit
def protocol_value(ptr, off, sc, mask, mul, QUANTIZE: tl.constexpr, Y_ONLY: tl.constexpr, DIVIDE: tl.constexpr = True):
    """0..255-scale value at element offset ``off`` (channel 0's offset when ``Y_ONLY``). With
    ``DIVIDE`` the luma is rounded exactly as the reference's ``(...) / 255``; without, the weights
    are pre-divided (one multiply-add each instead of a float64 division, within an ulp), for
    kernels that convert every pixel many times (SSIM's 121-tap window)."""
    if Y_ONLY:
        r = to255(tl.load(ptr + off, mask=mask, other=0), mul, QUANTIZE)
        g = to255(tl.load(ptr + off + sc, mask=mask, other=0), mul, QUANTIZE)
        b = to255(tl.load(ptr + off + 2 * sc, mask=mask, other=0), mul, QUANTIZE)
        if DIVIDE:
            v = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0  # float64: the operands are
        else:
            v = 16.0 + (r * (65.481 / 255.0) + g * (128.553 / 255.0) + b * (24.966 / 255.0))
    else:
        v = to255(tl.load(ptr + off, mask=mask, other=0), mul, QUANTIZE)
    return v
