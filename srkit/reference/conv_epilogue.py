"""Reference of a k x k convolution with its epilogue: ``[residual + res_scale *] [relu](conv(x, w) [+ b])``."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv_epilogue(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    residual: torch.Tensor | None = None,
    res_scale: float = 1.0,
    relu: bool = False,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """w (CO, CI, k, k) with odd k, 'same' zero padding; returned, or written into ``out``."""
    y = F.conv2d(x, w, b, padding=w.shape[-1] // 2)
    if relu:
        y = F.relu(y)
    if residual is not None:
        y = torch.add(residual, y, alpha=res_scale)
    return y if out is None else out.copy_(y)
