"""What every zoo model shares: the LR -> SR interface."""

from __future__ import annotations

from torch import nn


class SRNet(nn.Module):
    """Base of the zoo. ``forward(lr) -> sr`` maps (N, in_channels, h, w) images in [0, 1] to
    (N, in_channels, h * scale, w * scale) in [0, 1] (unclamped while training).

    Models whose official weights expect another range scale inside ``forward`` (``io_range``), so
    every caller (evaluation, upscaling, training) speaks [0, 1]. ``min_size`` is the smallest LR
    side the architecture accepts (ESA's strided pooling needs 15 pixels).
    """

    min_size: int = 1

    def __init__(self, scale: int, in_channels: int = 3) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"{type(self).__name__}: scale must be >= 1, got {scale}")
        self.scale = scale
        self.in_channels = in_channels
