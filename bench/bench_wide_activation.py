"""WDSR-B block (issue shapes): srkit's WideActBlockB against the plain PyTorch block (cuDNN) and
torch.compile of it, forward latency; plus forward+backward of a 16-block stack with peak memory
on a GPU."""

from __future__ import annotations

import torch

from srkit import ops
from srkit.nn import WideActBlockB
from srkit.ops import dispatch
from tests.test_wide_activation import eager_block

from .bench_pixel_shuffle import _row
from .common import time_fn


def run(device: str, quick: bool, bandwidth: float) -> list[dict]:
    if device == "cpu":
        shapes = [((1, 32, 90, 160), torch.float32)]
    else:
        shapes = [((1, 32, 180, 320), torch.bfloat16), ((16, 32, 360, 640), torch.bfloat16), ((1, 64, 540, 960), torch.bfloat16)]
    rows = []
    for shape, dtype in shapes:
        block = WideActBlockB(shape[1], expansion=6, low_rank=0.8, weight_norm=False).to(device=device, dtype=dtype)
        x = torch.randn(shape, device=device).to(dtype)
        nbytes = 2 * x.numel() * x.element_size()  # the fused floor: read x, write the output
        with torch.no_grad():
            want = eager_block(x, block).double()
            tol = 1e-4 if dtype == torch.float32 else 5e-2
            fns = {"torch-eager": lambda: eager_block(x, block)}
            if not quick:
                compiled = torch.compile(lambda t: eager_block(t, block), mode="max-autotune-no-cudagraphs" if device != "cpu" else "default")
                fns["torch-compile"] = lambda: compiled(x)
            base = None
            for label, fn in fns.items():
                t = time_fn(fn, device)
                base = base or t["median_ms"]
                rows.append(_row("wdsr_b", label, label, shape, 0, dtype, t, nbytes, bandwidth,
                                 bool(torch.allclose(fn().double(), want, rtol=tol, atol=tol)), base))
            for b in dispatch.available_backends(device):
                if (device == "cpu" and b == "triton") or b in ("cpp", "cuda"):
                    continue  # wide_pointwise has Triton and the reference only, so far
                with ops.use_backend(b, strict=True):
                    t = time_fn(lambda: block(x), device)
                    ok = bool(torch.allclose(block(x).double(), want, rtol=tol, atol=tol))
                    rows.append(_row("wdsr_b", f"srkit-{b}", ops.last_backend("wide_pointwise"), shape, 0, dtype, t, nbytes, bandwidth, ok, base))
    return rows
