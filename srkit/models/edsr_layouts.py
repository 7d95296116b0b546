"""EDSR's official state-dict layout (EDSR-PyTorch) renamed to srkit's module names, and its
hyper-parameters read from key names and shapes.

The official names differ from srkit's in two places: the mean shifts are 1x1 convolutions
(``sub_mean.weight``; srkit: ``sub_mean.shifter.weight``) and the head is a one-conv Sequential
(``head.0``; srkit: ``head``). The official weights work on [0, 255]: the mean shift's bias
(-255 x the DIV2K mean) records that, and the model is built with ``io_range=255``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .blocks import DIV2K_RGB_MEAN
from .errors import CheckpointError, StateDict

_FIXED = {
    "sub_mean.weight": "sub_mean.shifter.weight",
    "sub_mean.bias": "sub_mean.shifter.bias",
    "add_mean.weight": "add_mean.shifter.weight",
    "add_mean.bias": "add_mean.shifter.bias",
    "head.0.weight": "head.weight",
    "head.0.bias": "head.bias",
}


def official(sd: StateDict) -> dict[str, Any] | None:
    """The official names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if not all(k in sd for k in ("sub_mean.weight", "head.0.weight", "body.0.body.0.weight", "tail.1.weight")):
        return None
    return {_FIXED.get(k, k): v for k, v in sd.items()}


def edsr(sd: StateDict) -> tuple[str, dict[str, Any]]:
    channels = sd["head.weight"].shape[0]
    blocks = len({m.group(1) for k in sd if (m := re.match(r"body\.(\d+)\.body\.0\.weight$", k))})
    scale = 1
    for i in range(0, 8, 2):  # tail.0: (conv to r^2 x channels, pixel shuffle) per step
        w = sd.get(f"tail.0.{i}.weight")
        if w is None:
            break
        r = math.isqrt(w.shape[0] // channels)
        if r * r * channels != w.shape[0]:
            raise CheckpointError(f"EDSR: upsampling conv tail.0.{i} has {w.shape[0]} outputs, not r^2 x {channels}")
        scale *= r
    io_range = round(-float(sd["sub_mean.shifter.bias"][0]) / DIV2K_RGB_MEAN[0], 3)  # -range x mean
    big = channels == 256 and blocks == 32  # the paper's EDSR, with residual scaling 0.1
    return ("edsr" if big else "edsr_baseline"), {
        "scale": scale,
        "channels": channels,
        "blocks": blocks,
        "res_scale": 0.1 if big else 1.0,
        "io_range": io_range,
    }
