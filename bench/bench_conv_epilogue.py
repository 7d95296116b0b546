"""conv_epilogue (a 3x3 conv with bias, res_scale and the residual add fused; issue shapes): srkit's
kernels against the same conv + add on plain PyTorch (cuDNN on a GPU) and torch.compile of it."""

from __future__ import annotations

from typing import Any

from srkit.profiler.device import Peaks

from .common import op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    return op_rows("conv_epilogue", device, quick, peaks)
