"""RLFN's published layout (the authors' NTIRE 2022 release: srkit's names)."""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, count_ids, subpixel_scale
from ..errors import StateDict


def _rlfn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["conv_1.weight"].shape[1]
    return "rlfn", {
        "scale": subpixel_scale(sd["upsampler.0.weight"], cin, "RLFN"),
        "channels": sd["conv_1.weight"].shape[0],
        "mid": sd["block_1.c1_r.weight"].shape[0],
        "blocks": count_ids(sd, r"block_(\d+)\."),
        "esa_channels": sd["block_1.esa.conv1.weight"].shape[0],
        "in_channels": cin,
        "io_range": 255.0,
    }


ARCHS = (ArchSupport("rlfn", ("conv_1.weight", "block_1.c1_r.weight", "block_1.esa.conv1.weight"), _rlfn),)
