"""``srkit.ops.pixel_shuffle`` / ``pixel_unshuffle``: bit-exact with PyTorch's, for every dtype and layout.

Backends: Triton (``srkit.kernels.pixel_shuffle``), CUDA and C++ (``srkit._C``), PyTorch reference
(``srkit.reference.pixel_shuffle``). Registered as the custom ops ``srkit::pixel_shuffle`` and
``srkit::pixel_unshuffle`` (opaque to ``torch.compile``, no graph break), each the other's gradient.
"""

from __future__ import annotations

import torch

from ..reference import pixel_shuffle as reference
from . import _checks
from .dispatch import call, custom_op, declare, dispatch, extension, reference_inline


def _triton(x: torch.Tensor, r: int, out: torch.Tensor, shuffle: bool) -> None:
    from srkit.kernels import pixel_shuffle as k

    k.pixel_shuffle(x, r, out, shuffle)


def _cuda(x: torch.Tensor, r: int, out: torch.Tensor, shuffle: bool) -> None:
    extension().pixel_shuffle_cuda(x, out, r, shuffle)  # type: ignore[union-attr]


def _cpp(x: torch.Tensor, r: int, out: torch.Tensor, shuffle: bool) -> None:
    extension().pixel_shuffle_cpu(x, out, r, shuffle)  # type: ignore[union-attr]


def _torch(x: torch.Tensor, r: int, out: torch.Tensor, shuffle: bool) -> None:
    reference.pixel_shuffle(x, r, out, shuffle)


_IMPLS = {"triton": _triton, "cuda": _cuda, "cpp": _cpp, "torch": _torch}  # one table: the `shuffle` flag picks the way
declare("pixel_shuffle", _IMPLS)
declare("pixel_unshuffle", _IMPLS, timed_in="pixel_shuffle", home="pixel_shuffle")


def output_shape(shape: tuple[int, ...] | torch.Size, r: int, shuffle: bool) -> tuple[int, int, int, int]:
    n, c, h, w = shape
    return (n, c // (r * r), h * r, w * r) if shuffle else (n, c * r * r, h // r, w // r)


def _empty(x: torch.Tensor, r: int, shuffle: bool) -> torch.Tensor:
    return _checks.new_output(x, output_shape(x.shape, r, shuffle))


def _run(x: torch.Tensor, r: int, shuffle: bool) -> torch.Tensor:
    out = _empty(x, r, shuffle)
    dispatch("pixel_shuffle" if shuffle else "pixel_unshuffle", x.device, x.dtype)(x, r, out, shuffle)
    return out


@custom_op("srkit::pixel_shuffle", mutates_args=())
def _pixel_shuffle_op(x: torch.Tensor, r: int) -> torch.Tensor:
    return _run(x, r, True)


@custom_op("srkit::pixel_unshuffle", mutates_args=())
def _pixel_unshuffle_op(x: torch.Tensor, r: int) -> torch.Tensor:
    return _run(x, r, False)


@_pixel_shuffle_op.register_fake
def _(x: torch.Tensor, r: int) -> torch.Tensor:
    return _empty(x, r, True)


@_pixel_unshuffle_op.register_fake
def _(x: torch.Tensor, r: int) -> torch.Tensor:
    return _empty(x, r, False)


def _setup(ctx, inputs, output) -> None:  # torch.library's signature
    ctx.r = inputs[1]


_pixel_shuffle_op.register_autograd(lambda ctx, g: (_pixel_unshuffle_op(g, ctx.r), None), setup_context=_setup)
_pixel_unshuffle_op.register_autograd(lambda ctx, g: (_pixel_shuffle_op(g, ctx.r), None), setup_context=_setup)


def check(x: torch.Tensor, r: int, shuffle: bool) -> None:
    op = "pixel_shuffle" if shuffle else "pixel_unshuffle"
    _checks.tensor4(x, "input", op)
    _checks.factor(r, op)
    if x.element_size() not in (1, 2, 4, 8):
        raise TypeError(f"srkit.{op}: unsupported dtype {x.dtype}")
    n, c, h, w = x.shape
    if shuffle and c % (r * r):
        raise ValueError(
            f"srkit.pixel_shuffle: channels ({c}) must be divisible by r^2 = {r * r} (shape {tuple(x.shape)})"
        )
    if not shuffle and (h % r or w % r):
        raise ValueError(f"srkit.pixel_unshuffle: height and width ({h}x{w}) must be divisible by r = {r}")


def pixel_shuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """(N, C r^2, H, W) -> (N, C, H r, W r), exactly as ``torch.nn.functional.pixel_shuffle``."""
    check(x, r, True)
    inl = reference_inline("pixel_shuffle", x)
    return reference.pixel_shuffle(x, r) if inl else call(_pixel_shuffle_op, x, r)


def pixel_unshuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """(N, C, H r, W r) -> (N, C r^2, H, W), exactly as ``torch.nn.functional.pixel_unshuffle``."""
    check(x, r, False)
    inl = reference_inline("pixel_unshuffle", x)
    return reference.pixel_shuffle(x, r, shuffle=False) if inl else call(_pixel_unshuffle_op, x, r)
