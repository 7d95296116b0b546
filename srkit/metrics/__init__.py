"""Image-quality metrics under the standard SR evaluation protocol (see :func:`psnr`)."""

from .psnr import psnr
from .ssim import ssim

__all__ = ["psnr", "ssim"]
