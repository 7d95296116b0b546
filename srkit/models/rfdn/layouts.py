"""RFDN's published layout (the authors' AIM 2020 release: srkit's names)."""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, count_ids, subpixel_scale
from ..errors import StateDict


def _rfdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.weight"].shape[1]
    return "rfdn", {
        "scale": subpixel_scale(sd["upsampler.0.weight"], cin, "RFDN"),
        "channels": sd["fea_conv.weight"].shape[0],
        "blocks": count_ids(sd, r"B(\d+)\."),
        "in_channels": cin,
        "io_range": 255.0,
    }


ARCHS = (ArchSupport("rfdn", ("fea_conv.weight", "B1.c1_d.weight", "B1.esa.conv_max.weight"), _rfdn),)
