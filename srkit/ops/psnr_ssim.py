"""``srkit.ops.psnr_ssim``: per-image PSNR and SSIM together, as the evaluation protocol needs them.

The C++ backend computes both from one read of the images (the squared error comes from the rows
the SSIM pass converts anyway); the other backends run their PSNR and SSIM kernels one after the
other. Registered as ``srkit::psnr_ssim``.
"""

from __future__ import annotations

import torch

from .dispatch import call, custom_op, declare, dispatch, extension, implementations, inline
from .psnr import pixel_count, psnr, sse_to_psnr
from .ssim import WINDOW, gauss_list, ssim


def _cpp(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> tuple[torch.Tensor, torch.Tensor]:
    sse, ssim_sum = extension().psnr_ssim_cpu(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, gauss_list())  # type: ignore[union-attr]
    return sse, ssim_sum


def _separately(backend: str):
    def run(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> tuple[torch.Tensor, torch.Tensor]:
        args = (sr, hr, sr_mul, hr_mul, quantize, y_only, shave)
        return implementations("psnr")[backend](*args), implementations("ssim")[backend](*args)

    return run


declare(
    "psnr_ssim",
    {"triton": _separately("triton"), "cuda": _separately("cuda"), "cpp": _cpp, "torch": _separately("torch")},
    timed_in="psnr",  # the psnr case times both metrics at once
)


@custom_op("srkit::psnr_ssim", mutates_args=())
def _psnr_ssim_op(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> tuple[torch.Tensor, torch.Tensor]:
    sse, ssim_sum = dispatch("psnr_ssim", sr.device, sr.dtype)(sr, hr, sr_mul, hr_mul, quantize, y_only, shave)
    return sse_to_psnr(sse, pixel_count(sr.shape, y_only, shave)), ssim_sum / pixel_count(
        sr.shape, y_only, shave, WINDOW
    )


@_psnr_ssim_op.register_fake
def _(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> tuple[torch.Tensor, torch.Tensor]:
    return sr.new_empty((sr.shape[0],), dtype=torch.float64), sr.new_empty((sr.shape[0],), dtype=torch.float64)


def psnr_ssim(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image (PSNR, SSIM), float64 [N] each; inputs already checked by ``srkit.metrics``."""
    if inline():
        args = (sr, hr, sr_mul, hr_mul, quantize, y_only, shave)
        return psnr(*args), ssim(*args)
    return call(_psnr_ssim_op, sr, hr, float(sr_mul), float(hr_mul), bool(quantize), bool(y_only), int(shave))
