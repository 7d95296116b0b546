"""``srkit.metrics.ssim``: batched SSIM under the standard SR evaluation protocol."""

from __future__ import annotations

from typing import Any

from .. import ops
from ._inputs import Layout, check_finite, prepare, wrap


def ssim(
    sr: Any,
    hr: Any,
    *,
    data_range: float | None = None,
    y_only: bool = False,
    shave: int = 0,
    quantize: bool = False,
    layout: Layout = "NCHW",
) -> Any:
    """Per-image SSIM (float64, shape [N]) of two image batches.

    Wang et al.'s SSIM as MATLAB's ``ssim_index`` computes it: 11x11 Gaussian window (sigma 1.5),
    K1 = 0.01, K2 = 0.03, on the 0..255 scale, averaged over the 'valid' region (no padding).
    Inputs, ranges and the options ``y_only``, ``shave``, ``quantize`` are as in
    :func:`srkit.metrics.psnr`; with several channels and ``y_only=False`` the result is the mean
    of the per-channel SSIMs. The shaved images must be at least 11x11.
    """
    p = prepare(sr, hr, data_range=data_range, y_only=y_only, shave=shave, layout=layout, op="ssim", min_size=11)
    res = ops.ssim(p.sr, p.hr, p.sr_mul, p.hr_mul, quantize, p.y_only, shave)
    check_finite(res, "ssim")
    return wrap(res, p.kind)
