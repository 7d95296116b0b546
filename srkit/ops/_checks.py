"""Input checks shared by the ops: each names the problem (shape, dtype, device, factor)."""

from __future__ import annotations

from collections.abc import Callable

import torch

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def tensor4(x: object, name: str, op: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"srkit.{op}: {name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"srkit.{op}: {name} must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")
    if x.is_complex():
        raise TypeError(f"srkit.{op}: {name} has unsupported dtype {x.dtype}")
    return x


def float_dtype(x: torch.Tensor, op: str, name: str = "x") -> None:
    """A floating dtype the ops compute in (float16, bfloat16, float32, float64), or one line naming it."""
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"srkit.{op}: {name} must be float16, bfloat16, float32 or float64, got {x.dtype}")


def factor(r: object, op: str) -> int:
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"srkit.{op}: the factor must be a positive int, got {r!r}")
    return r


def same_device(a: torch.Tensor, b: torch.Tensor, names: str, op: str) -> None:
    if a.device != b.device:
        raise ValueError(f"srkit.{op}: {names} are on different devices ({a.device} and {b.device})")


def new_output(x: torch.Tensor, shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
    """An uninitialised output of ``shape`` with x's dtype, device and memory format."""
    return torch.empty(shape, dtype=x.dtype, device=x.device, memory_format=out_memory_format(x))


def out_memory_format(x: torch.Tensor) -> torch.memory_format:
    """channels_last when ``x`` is channels_last (and not also plain contiguous), as PyTorch does."""
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


def no_float64_on_tensor_cores(x: torch.Tensor) -> Callable[[str], str]:
    """For ``dispatch``: why a Triton kernel that multiplies on tensor cores cannot take ``x`` ('' if it can)."""

    def why(backend: str) -> str:
        if backend == "triton" and x.dtype == torch.float64:
            return "the Triton kernel multiplies on tensor cores (no float64)"
        return ""

    return why
