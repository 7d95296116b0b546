"""The fused upsampling tail against its eager composite, torch.compile, and a plain copy of its output."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from srkit import ops
from srkit.ops import dispatch

from .bench_pixel_shuffle import _row
from .common import time_fn


def eager_tail(x: torch.Tensor, r: int, skip: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    return torch.clamp(F.pixel_shuffle(x, r) + skip + mean.view(1, -1, 1, 1).to(x.dtype), 0.0, 1.0)


def run(device: str, quick: bool, bandwidth: float) -> list[dict]:
    shapes = [((1, 48, 270, 480), 4, torch.float32)] if device == "cpu" else [
        ((16, 48, 270, 480), 4, torch.float16), ((16, 48, 270, 480), 4, torch.bfloat16), ((1, 48, 540, 960), 4, torch.float32)]
    rows = []
    for shape, r, dtype in shapes:
        x = torch.rand(shape, device=device).to(dtype)
        n, c, h, w = shape
        skip = torch.rand((n, c // (r * r), h * r, w * r), device=device).to(dtype)
        mean = torch.tensor([0.4, 0.45, 0.41], device=device)
        want = eager_tail(x.double(), r, skip.double(), mean.double())
        out = torch.empty_like(skip)
        nbytes = 3 * skip.numel() * skip.element_size()  # read x, read skip, write out
        fns = {"torch-eager": lambda: eager_tail(x, r, skip, mean), "copy-of-output": lambda: out.copy_(skip)}
        if not quick:
            compiled = torch.compile(eager_tail)
            fns["torch-compile"] = lambda: compiled(x, r, skip, mean)
        base = None
        for label, fn in fns.items():
            t = time_fn(fn, device)
            base = base or t["median_ms"]
            ok = label == "copy-of-output" or bool(torch.allclose(fn().double(), want, atol=1e-2 if dtype != torch.float32 else 1e-6))
            moved = 2 * skip.numel() * skip.element_size() if label == "copy-of-output" else nbytes
            rows.append(_row("upsample_tail", label, label, shape, r, dtype, t, moved, bandwidth, ok, base))
        for b in dispatch.available_backends(device):
            if device == "cpu" and b == "triton":
                continue
            with ops.use_backend(b, strict=True):
                fn = lambda: ops.upsample_tail(x, r, skip=skip, mean=mean, clamp=(0.0, 1.0))  # noqa: E731
                t = time_fn(fn, device)
                ok = bool(torch.allclose(fn().double(), want, atol=1e-2 if dtype != torch.float32 else 1e-6))
                rows.append(_row("upsample_tail", f"srkit-{b}", ops.last_backend("upsample_tail"), shape, r, dtype, t, nbytes, bandwidth, ok, base))
    return rows
