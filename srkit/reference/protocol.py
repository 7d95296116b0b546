"""The evaluation protocol's planes, shared by the ``psnr`` and ``ssim`` references.

Everything is float64, as MATLAB computes it: values are brought to the 0..255 scale, optionally
rounded like im2uint8, reduced to rgb2ycbcr's luma for ``y_only``, shaved, then compared.
"""

from __future__ import annotations

import torch

LUMA = (65.481, 128.553, 24.966)  # MATLAB rgb2ycbcr, RGB in [0, 1]; Y = 16 + (LUMA . RGB255) / 255


def protocol_planes(x: torch.Tensor, mul: float, quantize: bool, y_only: bool, shave: int) -> torch.Tensor:
    """(N, P, H - 2 shave, W - 2 shave) float64 planes on the 0..255 scale (P = 1 for ``y_only``)."""
    v = x.to(torch.float64) * mul
    if quantize:
        v = torch.where(v < 0, 0.0, v)
        v = torch.where(v > 255, 255.0, v)
        v = torch.floor(v + 0.5)
    if y_only:
        r, g, b = v[:, 0:1], v[:, 1:2], v[:, 2:3]
        v = 16.0 + (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b) / 255.0
    h, w = v.shape[-2:]
    return v[..., shave : h - shave, shave : w - shave]
