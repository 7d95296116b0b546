"""IMDB paths: IMDN's distillation block with a choice, per stage, of distilling or not.

A path is a string of ``n`` bits, one per 3x3 stage: ``1`` splits the stage's output into
``distill`` x width kept channels and the rest (which the next stage refines), as IMDN does; ``0``
keeps nothing and passes the whole output on. A last 3x3 conv makes one more kept piece; the kept
pieces (with optional CCA) are fused by a 1x1 conv and the block input is added. IMDN's IMDB is the
path ``111`` at distillation rate 0.25, and computes through the same loop. The search's multi-path supernet shares these weights across
paths (``srkit.search.imdb_space``); both compute through :func:`path_forward`, so a path exported
from it equals this block exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import ContrastChannelAttention, scaled_pointwise

Conv = tuple[torch.Tensor, torch.Tensor]  # (weight, bias)


def check_path(path: str) -> str:
    if not path or any(b not in "01" for b in path):
        raise ValueError(f"IMDB path {path!r}: expected a string of 0/1 bits, one per stage")
    return path


def split_widths(channels: int, distill: float) -> tuple[int, int]:
    dc = int(channels * distill)
    if not 0 < dc < channels:
        raise ValueError(
            f"IMDB path: distillation rate {distill} of {channels} channels keeps {dc}; need 0 < kept < width"
        )
    return dc, channels - dc


def stage_inputs(path: str, channels: int, rc: int) -> list[int]:
    """Input width of every stage conv and of the last conv (after a split only the rest goes on)."""
    widths = [channels]
    for bit in path:
        widths.append(rc if bit == "1" else channels)
    return widths


def path_forward(
    x: torch.Tensor,
    path: str,
    dc: int,
    stages: list[Conv],
    last: Conv,
    fuse: Conv,
    cca: ContrastChannelAttention | None,
    slope: float,
) -> torch.Tensor:
    kept = []
    r = x
    for bit, (w, b) in zip(path, stages, strict=True):
        y = F.leaky_relu(F.conv2d(r, w, b, padding=w.shape[-1] // 2), slope)
        if bit == "1":
            d, r = torch.split(y, (dc, y.shape[1] - dc), dim=1)
            kept.append(d)
        else:
            r = y
    kept.append(F.conv2d(r, last[0], last[1], padding=last[0].shape[-1] // 2))
    y = torch.cat(kept, dim=1)
    if cca is None:
        return F.conv2d(y, fuse[0], fuse[1]) + x
    return scaled_pointwise(y, cca.attention(y), *fuse) + x  # CCA's scaling folded into the 1x1 fusion


def path_cca(kept: int) -> ContrastChannelAttention:
    """CCA over the kept pieces: IMDN's 16x reduction, at least one hidden channel."""
    return ContrastChannelAttention(kept, reduction=min(16, kept))


class IMDBPath(nn.Module):
    def __init__(
        self, channels: int, path: str = "111", distill: float = 0.25, attention: bool = False, slope: float = 0.05
    ) -> None:
        super().__init__()
        self.path, self.slope = check_path(path), slope
        self.dc, rc = split_widths(channels, distill)
        widths = stage_inputs(path, channels, rc)
        self.stages = nn.ModuleList(nn.Conv2d(w, channels, 3, padding=1) for w in widths[:-1])
        self.last = nn.Conv2d(widths[-1], self.dc, 3, padding=1)
        kept = self.dc * (path.count("1") + 1)
        self.fuse = nn.Conv2d(kept, channels, 1)
        self.cca = path_cca(kept) if attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return path_forward(
            x,
            self.path,
            self.dc,
            [(c.weight, c.bias) for c in self.stages],
            (self.last.weight, self.last.bias),
            (self.fuse.weight, self.fuse.bias),
            self.cca,
            self.slope,
        )
