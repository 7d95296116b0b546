"""RGB <-> YCbCr exactly as MATLAB's ``rgb2ycbcr`` / ``ycbcr2rgb`` (BT.601, studio swing).

Tensors are (..., 3, H, W). Float tensors are in [0, 1] (MATLAB's double convention); uint8
tensors are converted and rounded back to uint8, as MATLAB does for uint8 images.
"""

from __future__ import annotations

import torch

from ..reference.protocol import LUMA

_RGB2YCC = torch.tensor([list(LUMA), [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]], dtype=torch.float64) / 255.0
_OFFSET = torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64) / 255.0


def _apply(x: torch.Tensor, mat: torch.Tensor, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"srkit.data.color: expected (..., 3, H, W), got shape {tuple(x.shape)}")
    u8 = x.dtype == torch.uint8
    v = x.to(torch.float64) / (255.0 if u8 else 1.0)
    m = mat.to(x.device)
    v = torch.einsum("ij,...jhw->...ihw", m, v - pre.to(x.device).view(3, 1, 1)) + post.to(x.device).view(3, 1, 1)
    if u8:
        return torch.floor((v * 255.0).clamp(0, 255) + 0.5).to(torch.uint8)
    return v.to(x.dtype)


def rgb2ycbcr(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``rgb2ycbcr``: Y in [16, 235] / 255, Cb and Cr in [16, 240] / 255 for float input."""
    return _apply(x, _RGB2YCC, torch.zeros(3, dtype=torch.float64), _OFFSET)


def ycbcr2rgb(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``ycbcr2rgb``, the exact inverse of :func:`rgb2ycbcr` (before rounding)."""
    return _apply(x, torch.linalg.inv(_RGB2YCC), _OFFSET, torch.zeros(3, dtype=torch.float64))


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """Luma on the 0..255 scale as the evaluation protocol uses it (float64, not rounded), (..., 1, H, W)."""
    u8 = x.dtype == torch.uint8
    v = x.to(torch.float64) * (1.0 if u8 else 255.0)
    r, g, b = v[..., 0:1, :, :], v[..., 1:2, :, :], v[..., 2:3, :, :]
    return 16.0 + (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b) / 255.0
