"""pixel_shuffle: PyTorch eager, torch.compile and every srkit backend (bit-exactness checked)."""

from __future__ import annotations

from typing import Any

from srkit.profiler.device import Peaks

from .common import op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    return op_rows("pixel_shuffle", device, quick, peaks)
