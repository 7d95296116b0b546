"""Channel attention as a layer of its own (RCAN's, the search's attended blocks): srkit's
``attention_scale`` (statistics, MLP and scaling) against the same layer on plain PyTorch (eager and
torch.compile)."""

from __future__ import annotations

from typing import Any

from srkit.profiler.device import Peaks

from .common import op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    return op_rows("attention_scale", device, quick, peaks)
