"""float64 references and baselines shared by the tests and the benchmarks (so they cannot drift)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from srkit.reference import protocol, psnr, ssim


def tail64(x, r, skip=None, mean=None, lo=None, hi=None) -> torch.Tensor:
    """clamp(pixel_shuffle(x) + skip + mean) in float64."""
    v = F.pixel_shuffle(x.double(), r)
    if skip is not None:
        v = v + skip.double()
    if mean is not None:
        v = v + torch.as_tensor(mean, dtype=torch.float32).double().view(1, -1, 1, 1)
    if lo is not None or hi is not None:
        v = torch.clamp(v, lo, hi)
    return v


def psnr64(sr, hr, sr_mul=1.0, hr_mul=1.0, quantize=False, y_only=False, shave=0) -> torch.Tensor:
    mse = (
        psnr.sse(sr, hr, sr_mul, hr_mul, quantize, y_only, shave)
        / protocol.protocol_planes(sr[:1], sr_mul, quantize, y_only, shave).numel()
    )
    return 10 * torch.log10(255.0**2 / mse)


def ssim64(sr, hr, sr_mul=1.0, hr_mul=1.0, quantize=False, y_only=False, shave=0) -> torch.Tensor:
    a = protocol.protocol_planes(sr, sr_mul, quantize, y_only, shave)
    b = protocol.protocol_planes(hr, hr_mul, quantize, y_only, shave)
    return ssim.ssim_map(a, b, ssim.gaussian_window()).flatten(1).mean(1)
