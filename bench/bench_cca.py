"""Contrast-aware channel attention (IMDN's CCA): srkit's module against the same layer on plain
PyTorch (eager and torch.compile)."""

from __future__ import annotations

from typing import Any

from srkit.profiler.device import Peaks

from .common import op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    return op_rows("cca", device, quick, peaks)
