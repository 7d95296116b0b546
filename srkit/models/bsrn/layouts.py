"""BSRN's published layout (the authors' BasicSR-based release, ``params`` unwrapped: srkit's names)."""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, count_ids, subpixel_scale
from ..errors import StateDict


def _bsrn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.pw.weight"].shape[1] // 4
    return "bsrn", {
        "scale": subpixel_scale(sd["upsampler.upsampleOneStep.0.weight"], cin, "BSRN"),
        "channels": sd["fea_conv.pw.weight"].shape[0],
        "blocks": count_ids(sd, r"B(\d+)\."),
        "in_channels": cin,
    }


ARCHS = (ArchSupport("bsrn", ("fea_conv.pw.weight", "B1.cw", "B1.c1_r.dw.weight"), _bsrn),)
