"""Inputs in the layouts every kernel must accept, and poisoned output buffers."""

from __future__ import annotations

import torch

LAYOUTS = ("contiguous", "channels_last", "strided")


def random_tensor(shape, dtype: torch.dtype, gen: torch.Generator, device: str = "cpu") -> torch.Tensor:
    if dtype == torch.uint8:
        return torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8).to(device)
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)


def in_layout(x: torch.Tensor, layout: str) -> torch.Tensor:
    """The same values as ``x`` stored contiguously, channels_last, or as a strided (non-contiguous) view."""
    if layout == "contiguous":
        return x.contiguous()
    if layout == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    n, c, h, w = x.shape
    big = torch.zeros((n, c, h + 1, 2 * w + 3), dtype=x.dtype, device=x.device)
    view = big[:, :, 1:, 3::2]  # every other column of a padded buffer: no stride is natural
    view.copy_(x)
    assert not view.is_contiguous() and not view.is_contiguous(memory_format=torch.channels_last) or x.numel() <= 1
    return view


def poisoned(shape, dtype: torch.dtype, device: str = "cpu", channels_last: bool = False) -> torch.Tensor:
    """An output buffer full of values no kernel would write (NaN, or 0xA5 for integers)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    out = torch.empty(shape, dtype=dtype, device=device, memory_format=fmt)
    return out.fill_(float("nan") if dtype.is_floating_point else 0xA5)
