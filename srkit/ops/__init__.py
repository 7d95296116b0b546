"""srkit's ops with backend dispatch (see :mod:`srkit.ops.dispatch`)."""

from .attention_scale import attention_scale
from .channel_scale import channel_scale
from .channel_stats import channel_stats
from .conv_epilogue import conv_epilogue
from .dispatch import (
    BACKENDS,
    BackendUnavailable,
    Call,
    available_backends,
    implementations,
    last_backend,
    last_call,
    plain_torch,
    through_ops,
    trace,
    unavailable_reason,
    use_backend,
)
from .pixel_shuffle import pixel_shuffle, pixel_unshuffle
from .psnr import psnr
from .psnr_ssim import psnr_ssim
from .ssim import ssim
from .upsample_tail import upsample_tail
from .wdsr_a_fused import wdsr_a_fused
from .wide_pointwise import wide_pointwise

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "Call",
    "attention_scale",
    "available_backends",
    "channel_scale",
    "channel_stats",
    "conv_epilogue",
    "implementations",
    "last_backend",
    "last_call",
    "pixel_shuffle",
    "pixel_unshuffle",
    "plain_torch",
    "psnr",
    "psnr_ssim",
    "ssim",
    "through_ops",
    "trace",
    "unavailable_reason",
    "upsample_tail",
    "use_backend",
    "wdsr_a_fused",
    "wide_pointwise",
]
