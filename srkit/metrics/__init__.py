"""Image-quality metrics under the standard SR evaluation protocol (see :func:`psnr`)."""

from .protocol import sr_scores
from .psnr import psnr
from .psnr_ssim import psnr_ssim
from .ssim import ssim

__all__ = ["psnr", "psnr_ssim", "sr_scores", "ssim"]
