"""Contrast-aware channel attention (IMDN's CCA): srkit's module against the eager PyTorch layer
(IMDN's definition, imported from the tests) and torch.compile of it."""

from __future__ import annotations

import torch

from srkit import ops
from srkit.nn import ContrastChannelAttention
from srkit.ops import dispatch
from tests.test_channel_attention import cca64

from .bench_pixel_shuffle import _row
from .common import time_fn


def eager_cca(x: torch.Tensor, m: ContrastChannelAttention) -> torch.Tensor:
    mean = x.mean((2, 3), keepdim=True)
    std = (x - mean).pow(2).mean((2, 3), keepdim=True).sqrt()
    return x * m.conv_du(std + mean)


def run(device: str, quick: bool, bandwidth: float) -> list[dict]:
    shapes = [((1, 64, 360, 640), torch.float32)] if device == "cpu" else [
        ((16, 64, 360, 640), torch.bfloat16), ((1, 64, 540, 960), torch.float16)]
    rows = []
    for shape, dtype in shapes:
        m = ContrastChannelAttention(shape[1]).to(device=device, dtype=dtype)
        x = torch.randn(shape, device=device).to(dtype)
        want = cca64(x, m)
        nbytes = 3 * x.numel() * x.element_size()  # two reads (two-pass statistics) and one write
        tol = 1e-4 if dtype == torch.float32 else 3e-2
        with torch.no_grad():
            fns = {"torch-eager": lambda: eager_cca(x, m)}
            if not quick:
                compiled = torch.compile(lambda t: eager_cca(t, m))
                fns["torch-compile"] = lambda: compiled(x)
            base = None
            for label, fn in fns.items():
                t = time_fn(fn, device)
                base = base or t["median_ms"]
                rows.append(_row("cca", label, label, shape, 0, dtype, t, nbytes, bandwidth,
                                 bool(torch.allclose(fn().double(), want, rtol=tol, atol=tol)), base))
            for b in dispatch.available_backends(device):
                if device == "cpu" and b == "triton":
                    continue
                with ops.use_backend(b, strict=True):
                    t = time_fn(lambda: m(x), device)
                    ok = bool(torch.allclose(m(x).double(), want, rtol=tol, atol=tol))
                    rows.append(_row("cca", f"srkit-{b}", ops.last_backend("channel_scale"), shape, 0, dtype, t, nbytes, bandwidth, ok, base))
    return rows
