"""Contrast-aware channel attention (IMDN's CCA) as IMDN runs it, its scaling folded into the 1x1
fusion: srkit's path against the same layer on plain PyTorch (eager and torch.compile)."""

from __future__ import annotations

from typing import Any

from srkit.profiler.device import Peaks

from .common import op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    return op_rows("cca", device, quick, peaks)
