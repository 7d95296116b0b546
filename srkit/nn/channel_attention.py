"""``ContrastChannelAttention``: IMDN's contrast-aware channel attention (CCA) on srkit's ops."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops


class ContrastChannelAttention(nn.Module):
    """``x * sigmoid(W2 relu(W1 (std(x) + mean(x)) + b1) + b2)`` per (n, c).

    The statistics are per-channel population std and mean over H x W, computed two-pass in
    float32 by :func:`srkit.ops.channel_stats`; the squeeze-excite MLP (1x1 convolutions, named
    ``conv_du`` as in IMDN so its checkpoints load) runs on the (N, C) statistics; the scaling is
    :func:`srkit.ops.channel_scale`.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        if channels < 1 or reduction < 1 or channels // reduction < 1:
            raise ValueError(f"ContrastChannelAttention: channels={channels} and reduction={reduction} leave no hidden units")
        self.channels, self.reduction = channels, reduction
        hidden = channels // reduction
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=True),
            nn.Sigmoid(),
        )

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The per-(n, c) factors (N, C): for folding the scaling into a consumer instead."""
        mean, std = ops.channel_stats(x)
        contrast = (mean + std).to(self.conv_du[0].weight.dtype)[:, :, None, None]
        return self.conv_du(contrast).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.channel_scale(x, self.attention(x))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"
