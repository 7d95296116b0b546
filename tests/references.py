"""float64 references and baselines shared by the tests and the benchmarks (so they cannot drift)."""

from __future__ import annotations

import numpy as np
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


def psnr_basicsr_loop(sr: torch.Tensor, hr: torch.Tensor, shave: int) -> list[float]:
    """Per-image float64 PSNR on Y the way BasicSR's calculate_psnr does it (one image at a time)."""
    out = []
    for a, b in zip(sr, hr, strict=True):
        ya = protocol.protocol_planes(a[None], 1.0, False, True, shave)
        yb = protocol.protocol_planes(b[None], 1.0, False, True, shave)
        mse = torch.mean((ya - yb) ** 2)
        out.append(float(10 * torch.log10(255.0**2 / mse)))
    return out


def skimage_loop(
    sr: np.ndarray, hr: np.ndarray, shave: int, y_only: bool = True, with_ssim: bool = True
) -> list[tuple[float, float | None]]:
    """PSNR and SSIM per image with scikit-image (Gaussian 11x11, sigma 1.5, population covariance),
    on the protocol's luma (or every channel); images (N, H, W, 3) uint8. ``with_ssim=False``: PSNR only."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    res = []
    for a, b in zip(sr, hr, strict=True):
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        if y_only:
            a64 = 16 + (a64 @ np.array(protocol.LUMA)) / 255
            b64 = 16 + (b64 @ np.array(protocol.LUMA)) / 255
        if shave:
            a64, b64 = a64[shave:-shave, shave:-shave], b64[shave:-shave, shave:-shave]
        kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
        if not y_only:
            kw["channel_axis"] = 2
        res.append(
            (
                peak_signal_noise_ratio(b64, a64, data_range=255),
                structural_similarity(a64, b64, **kw) if with_ssim else None,
            )
        )
    return res
