"""``srkit.metrics.psnr``: batched PSNR under the standard SR evaluation protocol."""

from __future__ import annotations

from typing import Any

from .. import ops
from ._inputs import Layout, check_finite, prepare, wrap


def psnr(
    sr: Any,
    hr: Any,
    *,
    data_range: float | None = None,
    y_only: bool = False,
    shave: int = 0,
    quantize: bool = False,
    layout: Layout = "NCHW",
) -> Any:
    """Per-image PSNR in dB (float64, shape [N]) of two image batches.

    ``sr``/``hr``: torch tensors, numpy or cupy arrays of shape (N, C, H, W) (or (C, H, W), or
    (H, W) for one grey image; ``layout="NHWC"`` for channels-last arrays), read in place.
    uint8 inputs span 0..255; float inputs span ``data_range`` (default 1.0). The two may differ
    in dtype (e.g. a float SR against a uint8 HR).

    The protocol of SR papers is ``y_only=True, shave=scale, quantize=True``: compare MATLAB's
    BT.601 luma ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` (RGB in [0, 1]) on a 0..255
    scale, ``scale`` pixels cropped from every border, after rounding to uint8 like im2uint8.
    A one-channel (grey) input is compared as it is under ``y_only``. Accumulation is float64;
    identical images give +inf. NaN or Inf in the inputs raises ValueError.
    """
    p = prepare(sr, hr, data_range=data_range, y_only=y_only, shave=shave, layout=layout, op="psnr", min_size=1)
    res = ops.psnr(p.sr, p.hr, p.sr_mul, p.hr_mul, quantize, p.y_only, shave)
    check_finite(res, "psnr", allow_pos_inf=True)  # +inf: identical images
    return wrap(res, p.kind)
