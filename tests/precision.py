"""Tolerances per dtype and fp32 product precision, for the kernels that multiply on tensor cores.

On a GPU, fp32 products follow PyTorch's convolution flag (``srkit.ops.precision``): TF32 by
default (10-bit mantissas, fp32 accumulation), IEEE when turned off. Triton's interpreter ignores
the product precision, so on the CPU both modes meet the IEEE tolerance; on a GPU the TF32 mode is
held to TF32's. Relative to the output's largest magnitude (at least 1).
"""

from __future__ import annotations

import torch

from srkit.ops.precision import fp32_mode  # noqa: F401 - the tests' switch, re-exported

TOL = {torch.float32: 2e-5, torch.bfloat16: 3e-2, torch.float16: 5e-3}
TF32_TOL = 5e-3  # operands rounded to 2^-11 relative, sums of tens to hundreds of products


def tolerance(dtype: torch.dtype, device: str, tf32: bool) -> float:
    """The bound for one comparison against float64."""
    if dtype == torch.float32 and tf32 and device.startswith("cuda"):
        return TF32_TOL
    return TOL[dtype]
