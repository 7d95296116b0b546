"""``srkit.ops.ssim``: per-image SSIM of (N, C, H, W) batches under the evaluation protocol.

Wang et al.'s SSIM as MATLAB's ssim_index computes it: 11x11 Gaussian window (sigma 1.5), K1 0.01,
K2 0.03, dynamic range 255, 'valid' region, float64; the protocol's preprocessing is fused into the
kernels' reads. With several planes (``y_only=False``) the result is the mean over planes.
Backends: Triton, CUDA, C++, PyTorch reference; registered as ``srkit::ssim``.
"""

from __future__ import annotations

import functools

import torch

from ..reference import ssim as reference
from .dispatch import call, custom_op, declare, dispatch, extension, inline
from .psnr import pixel_count

WINDOW = reference.SSIM_WIN


@functools.cache
def gauss_list() -> list[float]:
    return reference.gaussian_window().tolist()


@functools.cache
def _gauss_tensor(device: torch.device) -> torch.Tensor:
    return reference.gaussian_window().to(device)


def _triton(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    from srkit.kernels import ssim as k

    return k.ssim_sum(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, _gauss_tensor(sr.device))


def _cuda(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    return extension().ssim_cuda(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, gauss_list())  # type: ignore[union-attr]


def _cpp(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    return extension().ssim_cpu(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, gauss_list())  # type: ignore[union-attr]


def _torch(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    return reference.ssim_sum(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, _gauss_tensor(sr.device))


declare("ssim", {"triton": _triton, "cuda": _cuda, "cpp": _cpp, "torch": _torch})


@custom_op("srkit::ssim", mutates_args=())
def _ssim_op(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> torch.Tensor:
    total = dispatch("ssim", sr.device, sr.dtype)(sr, hr, sr_mul, hr_mul, quantize, y_only, shave)
    return total / pixel_count(sr.shape, y_only, shave, WINDOW)


@_ssim_op.register_fake
def _(sr, hr, sr_mul, hr_mul, quantize, y_only, shave) -> torch.Tensor:
    return sr.new_empty((sr.shape[0],), dtype=torch.float64)


def ssim(
    sr: torch.Tensor, hr: torch.Tensor, sr_mul: float, hr_mul: float, quantize: bool, y_only: bool, shave: int
) -> torch.Tensor:
    """Per-image SSIM (float64 [N]); inputs already checked by ``srkit.metrics``."""
    if inline():
        total = reference.ssim_sum(
            sr, hr, sr_mul, hr_mul, quantize, y_only, shave, reference.gaussian_window().to(sr.device)
        )
        return total / pixel_count(sr.shape, y_only, shave, WINDOW)
    return call(_ssim_op, sr, hr, float(sr_mul), float(hr_mul), bool(quantize), bool(y_only), int(shave))
