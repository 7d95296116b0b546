"""The SR papers' scoring: Y-channel PSNR/SSIM, ``scale`` pixels shaved, SR rounded to uint8 first."""

from __future__ import annotations

from typing import Any

from .psnr_ssim import psnr_ssim


def sr_scores(sr: Any, hr: Any, scale: int, *, data_range: float | None = None) -> tuple[Any, Any]:
    """(PSNR, SSIM) per image under the standard protocol (``y_only``, ``shave=scale``, ``quantize``)."""
    return psnr_ssim(sr, hr, data_range=data_range, y_only=True, shave=scale, quantize=True)
