"""WDSR-A and WDSR-B blocks (issue shapes): srkit's WideActBlockA/B against the same blocks on plain
PyTorch layers (cuDNN on a GPU) and torch.compile of them, forward latency; WDSR-A both as two
conv_epilogue kernels and as one fully fused kernel (``fused=True``), to keep the faster."""

from __future__ import annotations

from typing import Any

from srkit.profiler.device import Peaks

from .common import op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    return (
        op_rows("wdsr_b", device, quick, peaks)
        + op_rows("wdsr_a", device, quick, peaks)
        + op_rows("wdsr_a_fused", device, quick, peaks)
    )
