"""FSRCNN's published layout (yjn870's PyTorch release, the files that circulate: srkit's names)."""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport
from ..errors import StateDict


def _fsrcnn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    w = sd["first_part.0.weight"]
    m = sum(1 for k, v in sd.items() if k.startswith("mid_part.") and k.endswith(".weight") and v.dim() == 4) - 2
    return "fsrcnn", {"d": w.shape[0], "s": sd["mid_part.0.weight"].shape[0], "m": m, "in_channels": w.shape[1]}


ARCHS = (ArchSupport("fsrcnn", ("first_part.0.weight", "mid_part.0.weight", "last_part.weight"), _fsrcnn),)
