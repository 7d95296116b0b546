"""Which fp32 product precision srkit's tensor-core kernels use: the one PyTorch's own convolutions
use, so that an srkit layer and the ``nn.Conv2d`` it stands in for round alike.

cuDNN convolutions allow TF32 by default (``torch.backends.cudnn.conv.fp32_precision == "tf32"``,
legacy ``torch.backends.cudnn.allow_tf32``); matrix products do not. srkit's dot kernels
(``wide_pointwise``, ``conv_epilogue``, ``wdsr_a_fused``) all replace convolutions, so they follow
the convolution flag. PyTorch 2.9 added per-backend ``fp32_precision`` settings ("tf32", "ieee", or
"none" = inherit) beside the legacy booleans; reading the legacy flag after the new one was set
raises, so the new one is read wherever it exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def _inherited(*values: str) -> str:
    """The first setting that is not 'none' (PyTorch's inheritance: operator, backend, global)."""
    return next((v for v in values if v != "none"), "ieee")


def _new_api() -> bool:
    conv = getattr(torch.backends.cudnn, "conv", None)
    return conv is not None and hasattr(conv, "fp32_precision") and hasattr(torch.backends, "fp32_precision")


def conv_allows_tf32() -> bool:
    """True where PyTorch's fp32 convolutions may multiply in TF32 (srkit's kernels then do too)."""
    if _new_api():
        b = torch.backends
        return _inherited(b.cudnn.conv.fp32_precision, b.cudnn.fp32_precision, b.fp32_precision) == "tf32"
    return bool(torch.backends.cudnn.allow_tf32)


@contextlib.contextmanager
def fp32_mode(*, tf32: bool) -> Iterator[None]:
    """Allow (or forbid) TF32 for fp32 convolutions and matrix products inside, as PyTorch's flags
    would; restored on exit. For tests and benchmarks that compare both precision modes."""
    mode = "tf32" if tf32 else "ieee"
    if _new_api():
        b = torch.backends
        knobs = [b.cudnn.conv, b.cudnn.rnn, b.cuda.matmul]
        before = [k.fp32_precision for k in knobs]
        try:
            for k in knobs:
                k.fp32_precision = mode
            yield
        finally:
            for k, v in zip(knobs, before, strict=True):
                k.fp32_precision = v
        return
    before_legacy = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before_legacy
