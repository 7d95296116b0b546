"""``ContrastChannelAttention``: IMDN's contrast-aware channel attention (CCA) on srkit's ops."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops


class ContrastChannelAttention(nn.Module):
    """``x * sigmoid(W2 relu(W1 (std(x) + mean(x)) + b1) + b2)`` per (n, c).

    The statistics are per-channel population std and mean over H x W, computed two-pass in
    float32 by :func:`srkit.ops.channel_stats`; the squeeze-excite MLP (1x1 convolutions, named
    ``conv_du`` as in IMDN so its checkpoints load) and the scaling run as one
    :func:`srkit.ops.attention_scale` (in Triton, the MLP is recomputed inside the scaling kernel).
    :meth:`attention` gives the factors alone, for folding the scaling into a consumer.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        if channels < 1 or reduction < 1 or channels // reduction < 1:
            raise ValueError(
                f"ContrastChannelAttention: channels={channels} and reduction={reduction} leave no hidden units"
            )
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
        mean, std = ops.channel_stats(x)
        up, down = self.conv_du[0], self.conv_du[2]
        return ops.attention_scale(x, mean, std, up.weight, up.bias, down.weight, down.bias)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class ChannelAttention(ContrastChannelAttention):
    """RCAN's channel attention, ``x * sigmoid(W2 relu(W1 mean(x) + b1) + b2)``: the same op as
    :class:`ContrastChannelAttention` with the contrast term left out (a zero std), so the MLP and
    the scaling still run as one :func:`srkit.ops.attention_scale`."""

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        mean, _ = ops.channel_stats(x)
        return self.conv_du(mean.to(self.conv_du[0].weight.dtype)[:, :, None, None]).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = ops.channel_stats(x)
        up, down = self.conv_du[0], self.conv_du[2]
        return ops.attention_scale(x, mean, torch.zeros_like(std), up.weight, up.bias, down.weight, down.bias)


def scaled_conv1x1(x: torch.Tensor, s: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(x * s[:, :, None, None])`` for a 1x1 ``conv``, with the scaling folded into per-image
    weights ``W diag(s_n)`` so that ``x * s`` is never written: one batched matrix product over x.

    This is how IMDN's CCA feeds its 1x1 fusion conv: ``scaled_conv1x1(x, cca.attention(x), conv)``.
    Works for NCHW and channels_last x (the output keeps x's layout).
    """
    if (
        conv.kernel_size != (1, 1)
        or conv.stride != (1, 1)
        or conv.padding != (0, 0)
        or conv.groups != 1
        or conv.dilation != (1, 1)
    ):
        raise ValueError(f"scaled_conv1x1 needs a plain 1x1 convolution, got {conv}")
    return scaled_pointwise(x, s, conv.weight, conv.bias)


def scaled_pointwise(x: torch.Tensor, s: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """:func:`scaled_conv1x1` on a 1x1 convolution's weight (O, C, 1, 1) and bias, for callers that hold
    weights rather than a module (IMDB paths, whose supernet slices shared weights)."""
    n, c, h, w = x.shape
    if tuple(s.shape[:2]) != (n, c):
        raise ValueError(f"scaled_pointwise: s has shape {tuple(s.shape)}, expected (N, C) = {(n, c)}")
    weight = weight.flatten(1)  # (O, C)
    per_image = weight[None] * s.flatten(1).to(weight.dtype)[:, None, :]  # (N, O, C)
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        y = torch.matmul(x.permute(0, 2, 3, 1).reshape(n, h * w, c), per_image.transpose(1, 2).to(x.dtype))
        y = y.reshape(n, h, w, -1).permute(0, 3, 1, 2)
    else:
        y = torch.matmul(per_image.to(x.dtype), x.reshape(n, c, h * w)).reshape(n, -1, h, w)
    if bias is not None:
        y = y + bias.to(y.dtype)[None, :, None, None]
    return y
