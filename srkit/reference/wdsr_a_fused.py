"""Reference of WDSR-A's whole block: two :func:`conv_epilogue` references (bias + ReLU, then
res_scale + residual)."""

from __future__ import annotations

import torch

from .conv_epilogue import conv_epilogue


def wdsr_a_fused(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    res_scale: float,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """``x + res_scale * (conv(relu(conv(x, w1) + b1), w2) + b2)``; returned, or written into ``out``."""
    return conv_epilogue(conv_epilogue(x, w1, b1, relu=True), w2, b2, residual=x, res_scale=res_scale, out=out)
