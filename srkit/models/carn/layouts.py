"""CARN's and CARN-M's published layout (the authors' multi-scale release: srkit's names)."""

from __future__ import annotations

import re
from typing import Any

from ..arch import ArchSupport
from ..errors import StateDict


def _carn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    channels = sd["entry.weight"].shape[0]
    heads = {m.group(1) for k in sd if (m := re.match(r"upsample\.up(\d+)\.", k))}
    scales = tuple(sorted(int(s) for s in heads))
    if "b1.b1.body.4.weight" in sd:  # CARN-M's efficient residual unit ends in a 1x1
        groups = channels // sd["b1.b1.body.0.weight"].shape[1]
        return "carn_m", {"channels": channels, "groups": groups, "scales": scales}
    return "carn", {"channels": channels, "scales": scales}


ARCHS = (ArchSupport("carn", ("entry.weight", "b1.c1.body.0.weight", "exit.weight"), _carn),)
