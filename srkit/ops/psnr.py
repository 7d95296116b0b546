"""``srkit.ops.psnr``: per-image PSNR (dB) of (N, C, H, W) batches under the evaluation protocol.

The kernels compute each image's sum of squared error on the 0..255 scale in float64, fusing the
protocol's preprocessing (scaling, optional im2uint8 rounding, optional BT.601 luma, border
shave) into the one read of each input. Backends: Triton, CUDA, C++, PyTorch reference;
registered as ``srkit::psnr``. ``srkit.metrics.psnr`` is the user-facing front (numpy/cupy input,
defaults, checks).
"""

from __future__ import annotations

import torch

from ..reference import psnr as reference
from .dispatch import by_name, call, custom_op, declare, dispatch, inline


def _triton(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    from srkit.kernels import psnr as k

    return k.sse(sr, hr, sr_mul, hr_mul, quantize, y_only, shave)


# the compiled kernels return the per-image sums of squared error the PSNR is made from
declare("psnr", {"triton": _triton, **by_name("psnr", "cuda", "cpp"), "torch": reference.sse})


def pixel_count(shape: torch.Size | tuple[int, ...], y_only: bool, shave: int, window: int = 1) -> int:
    """Values compared per image: planes x shaved rows x shaved columns (minus the window margin)."""
    _, c, h, w = shape
    return (1 if y_only else c) * (h - 2 * shave - window + 1) * (w - 2 * shave - window + 1)


def sse_to_psnr(sse: torch.Tensor, count: int) -> torch.Tensor:
    """PSNR (dB, peak 255) from per-image sums of squared error; identical images give +inf, not NaN."""
    mse = sse / count
    psnr = 10.0 * torch.log10((255.0 * 255.0) / mse)
    return torch.where(mse == 0, torch.full_like(psnr, float("inf")), psnr)


@custom_op("srkit::psnr", mutates_args=())
def _psnr_op(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> torch.Tensor:
    sse = dispatch("psnr", sr.device, sr.dtype)(sr, hr, sr_mul, hr_mul, quantize, y_only, shave)
    return sse_to_psnr(sse, pixel_count(sr.shape, y_only, shave))


@_psnr_op.register_fake
def _(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    return sr.new_empty((sr.shape[0],), dtype=torch.float64)


def psnr(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> torch.Tensor:
    """Per-image PSNR (float64 [N]); inputs already checked by ``srkit.metrics``."""
    if inline():
        return sse_to_psnr(
            reference.sse(sr, hr, sr_mul, hr_mul, quantize, y_only, shave), pixel_count(sr.shape, y_only, shave)
        )
    return call(_psnr_op, sr, hr, float(sr_mul), float(hr_mul), bool(quantize), bool(y_only), int(shave))
