"""The SR papers' scoring: Y-channel PSNR/SSIM, ``scale`` pixels shaved, SR rounded to uint8 first."""

from __future__ import annotations

from typing import Any

from .psnr import psnr
from .ssim import ssim


def sr_scores(sr: Any, hr: Any, scale: int, *, data_range: float | None = None) -> tuple[Any, Any]:
    """(PSNR, SSIM) per image under the standard protocol (``y_only``, ``shave=scale``, ``quantize``)."""
    kw = dict(data_range=data_range, y_only=True, shave=scale, quantize=True)
    return psnr(sr, hr, **kw), ssim(sr, hr, **kw)
