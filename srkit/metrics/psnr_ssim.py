"""``srkit.metrics.psnr_ssim``: both scores from one call (one read of the images on the C++ path)."""

from __future__ import annotations

from typing import Any

from .. import ops
from ._inputs import Layout, check_finite, prepare, wrap


def psnr_ssim(
    sr: Any,
    hr: Any,
    *,
    data_range: float | None = None,
    y_only: bool = False,
    shave: int = 0,
    quantize: bool = False,
    layout: Layout = "NCHW",
) -> tuple[Any, Any]:
    """Per-image (PSNR, SSIM), float64 [N] each; arguments as :func:`srkit.metrics.psnr`."""
    p = prepare(sr, hr, data_range=data_range, y_only=y_only, shave=shave, layout=layout, op="psnr_ssim", min_size=11)
    psnr, ssim = ops.psnr_ssim(p.sr, p.hr, p.sr_mul, p.hr_mul, quantize, p.y_only, shave)
    check_finite(psnr, "psnr_ssim", allow_pos_inf=True)
    check_finite(ssim, "psnr_ssim")
    return wrap(psnr, p.kind), wrap(ssim, p.kind)
