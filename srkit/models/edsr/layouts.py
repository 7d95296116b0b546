"""EDSR's published state-dict layouts (EDSR-PyTorch's and BasicSR's) renamed to srkit's module
names, and its hyper-parameters read from key names and shapes.

The official names differ from srkit's in two places: the mean shifts are 1x1 convolutions
(``sub_mean.weight``; srkit: ``sub_mean.shifter.weight``) and the head is a one-conv Sequential
(``head.0``; srkit: ``head``). The official weights work on [0, 255]: the mean shift's bias
(-255 x the DIV2K mean) records that, and the model is built with ``io_range=255``.

BasicSR's EDSR (``conv_first``, ``body.N.conv1/conv2``, ``conv_after_body``, ``upsample.K``,
``conv_last``) is the same network on [0, 255] (``img_range``) with the DIV2K mean held outside the
state dict; its mean shifts are made here from that mean.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

from ..arch import ArchSupport, Layout, renamed
from ..blocks import DIV2K_RGB_MEAN
from ..errors import CheckpointError, StateDict

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
    return official_names(sd)


def official_names(sd: StateDict) -> dict[str, Any]:
    """EDSR-PyTorch's mean-shift convs and head Sequential in srkit's names (its other names are srkit's)."""
    return {_FIXED.get(k, k): v for k, v in sd.items()}


def basicsr(sd: StateDict) -> dict[str, Any] | None:
    """BasicSR's names renamed to srkit's (mean shifts made for [0, 255]), or None if not that layout."""
    if not all(k in sd for k in ("conv_first.weight", "body.0.conv1.weight", "conv_after_body.weight")):
        return None
    blocks = len({m.group(1) for k in sd if (m := re.match(r"body\.(\d+)\.conv1\.weight$", k))})
    p = r"(weight|bias)"
    out = renamed(
        sd,
        [
            (rf"conv_first\.{p}", r"head.\1"),
            (rf"body\.(\d+)\.conv1\.{p}", r"body.\1.body.0.\2"),
            (rf"body\.(\d+)\.conv2\.{p}", r"body.\1.body.2.\2"),
            (rf"conv_after_body\.{p}", rf"body.{blocks}.\1"),
            (rf"upsample\.(\d+)\.{p}", r"tail.0.\1.\2"),
            (rf"conv_last\.{p}", r"tail.1.\1"),
        ],
        "EDSR (BasicSR)",
    )
    return {**out, **mean_shifts(255.0)}


def mean_shifts(value_range: float) -> StateDict:
    """srkit's two mean-shift buffers for the DIV2K mean on [0, ``value_range``] (BasicSR keeps the
    mean outside the state dict, with that default)."""
    mean = value_range * torch.tensor(DIV2K_RGB_MEAN)
    out: StateDict = {}
    for name, sign in (("sub_mean", -1.0), ("add_mean", 1.0)):
        out[f"{name}.shifter.weight"] = torch.eye(3).view(3, 3, 1, 1)
        out[f"{name}.shifter.bias"] = sign * mean
    return out


def upsampler_scale(sd: StateDict, channels: int, what: str) -> int:
    """The scale of EDSR's progressive upsampler ``tail.0`` (a conv to r^2 x channels and a pixel
    shuffle per step), which RCAN shares."""
    scale = 1
    for i in range(0, 8, 2):
        w = sd.get(f"tail.0.{i}.weight")
        if w is None:
            break
        r = math.isqrt(w.shape[0] // channels)
        if r * r * channels != w.shape[0]:
            raise CheckpointError(f"{what}: upsampling conv tail.0.{i} has {w.shape[0]} outputs, not r^2 x {channels}")
        scale *= r
    return scale


def edsr(sd: StateDict) -> tuple[str, dict[str, Any]]:
    channels = sd["head.weight"].shape[0]
    blocks = len({m.group(1) for k in sd if (m := re.match(r"body\.(\d+)\.body\.0\.weight$", k))})
    scale = upsampler_scale(sd, channels, "EDSR")
    io_range = io_range_of(sd)
    big = channels == 256 and blocks == 32  # the paper's EDSR, with residual scaling 0.1
    return ("edsr" if big else "edsr_baseline"), {
        "scale": scale,
        "channels": channels,
        "blocks": blocks,
        "res_scale": 0.1 if big else 1.0,
        "io_range": io_range,
    }


def io_range_of(sd: StateDict) -> float:
    """The value range a mean shift's bias records (its bias is -range x the DIV2K mean)."""
    return round(-float(sd["sub_mean.shifter.bias"][0]) / DIV2K_RGB_MEAN[0], 3)


ARCHS = (
    ArchSupport(
        "edsr",
        ("sub_mean.shifter.weight", "head.weight", "body.0.body.0.weight", "tail.1.weight"),
        edsr,
        layouts=(Layout("EDSR (official repository)", official), Layout("EDSR (BasicSR)", basicsr)),
    ),
)
