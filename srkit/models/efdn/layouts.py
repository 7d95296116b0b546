"""EFDN's published layout (the NTIRE 2023 release: srkit's names)."""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, subpixel_scale
from ..errors import StateDict


def _efdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["head.weight"].shape[1]
    return "efdn", {
        "scale": subpixel_scale(sd["tail.0.weight"], cin, "EFDN"),
        "channels": sd["head.weight"].shape[0],
        "in_channels": cin,
    }


ARCHS = (ArchSupport("efdn", ("head.weight", "cells.0.conv1.conv1x1.weight", "local_fuse.0.weight"), _efdn),)
