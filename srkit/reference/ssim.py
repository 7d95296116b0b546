"""Reference of ``ssim``: per-image sums of MATLAB's SSIM map under the evaluation protocol (float64)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .protocol import LUMA, protocol_planes

SSIM_WIN = 11
SSIM_SIGMA = 1.5


def gaussian_window(size: int = SSIM_WIN, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """The normalised 1-D Gaussian whose outer product is MATLAB's fspecial('gaussian', size, sigma)."""
    half = (size - 1) / 2
    g = torch.tensor([math.exp(-((i - half) ** 2) / (2 * sigma * sigma)) for i in range(size)], dtype=torch.float64)
    return g / g.sum()


def ssim_map(a: torch.Tensor, b: torch.Tensor, gauss: torch.Tensor) -> torch.Tensor:
    """SSIM map ('valid' region) of float64 (N, P, H, W) planes on the 0..255 scale."""
    n, p, h, w = a.shape
    k = gauss.to(device=a.device, dtype=torch.float64)
    kh, kw = k.view(1, 1, -1, 1), k.view(1, 1, 1, -1)  # separable: the 2-D window is their outer product

    def filt(t: torch.Tensor) -> torch.Tensor:
        v = F.conv2d(F.conv2d(t.reshape(n * p, 1, h, w), kh), kw)
        return v.reshape(n, p, h - k.numel() + 1, w - k.numel() + 1)

    mu1, mu2 = filt(a), filt(b)
    s11, s22, s12 = filt(a * a), filt(b * b), filt(a * b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu12 = mu1 * mu2
    num = (2 * mu12 + c1) * (2 * (s12 - mu12) + c2)
    den = (mu1 * mu1 + mu2 * mu2 + c1) * ((s11 - mu1 * mu1) + (s22 - mu2 * mu2) + c2)
    return num / den


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
    a = protocol_planes(sr, sr_mul, quantize, y_only, shave)
    b = protocol_planes(hr, hr_mul, quantize, y_only, shave)
    return ssim_map(a, b, gauss).flatten(1).sum(1)


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
            a64 = 16 + (a64 @ np.array(LUMA)) / 255
            b64 = 16 + (b64 @ np.array(LUMA)) / 255
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
