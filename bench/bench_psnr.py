"""Batched PSNR: srkit's backends against a per-image float64 torch loop (BasicSR's way), a
scikit-image loop, and torch.compile of the reference."""

from __future__ import annotations

import torch

from srkit import metrics, ops
from srkit.ops import dispatch
from srkit.reference import protocol
from tests.references import psnr64, psnr_basicsr_loop, skimage_loop

from .bench_pixel_shuffle import _row
from .common import time_fn


def batch(device: str, quick: bool) -> tuple[torch.Tensor, torch.Tensor, int]:
    n, h, w = (8, 512, 512) if device == "cpu" else (16, 2160, 3840)
    g = torch.Generator().manual_seed(0)
    hr = torch.randint(0, 256, (n, 3, h, w), generator=g, dtype=torch.uint8)
    sr = (hr.to(torch.int16) + torch.randint(-8, 9, hr.shape, generator=g, dtype=torch.int16)).clamp(0, 255).to(torch.uint8)
    return sr.to(device), hr.to(device), 4


def run(device: str, quick: bool, bandwidth: float) -> list[dict]:
    sr, hr, shave = batch(device, quick)
    kw = dict(y_only=True, shave=shave)
    want = psnr64(sr, hr, 1.0, 1.0, False, True, shave)
    nbytes = 2 * sr.numel() * sr.element_size()
    shape, rows = list(sr.shape), []
    base_t = time_fn(lambda: psnr_basicsr_loop(sr, hr, shave), device, warmup=1, reps=3 if quick else 5)
    base = base_t["median_ms"]
    rows.append(_row("psnr", "torch-per-image-f64", "torch", shape, 0, sr.dtype, base_t, nbytes, bandwidth, True, base))
    if device == "cpu":
        s_np, h_np = sr.permute(0, 2, 3, 1).numpy(), hr.permute(0, 2, 3, 1).numpy()
        t = time_fn(lambda: skimage_loop(s_np, h_np, shave, with_ssim=False), device, warmup=1, reps=3)
        rows.append(_row("psnr", "skimage-loop", "numpy", shape, 0, sr.dtype, t, nbytes, bandwidth, True, base))
    if not quick:
        compiled = torch.compile(lambda a, b: protocol.sse(a, b, 1.0, 1.0, False, True, shave))
        rows.append(_row("psnr", "torch-compile-f64", "inductor", shape, 0, sr.dtype, time_fn(lambda: compiled(sr, hr), device), nbytes, bandwidth, True, base))
    for b in dispatch.available_backends(device):
        if device == "cpu" and b == "triton":
            continue
        with ops.use_backend(b, strict=True):
            t = time_fn(lambda: metrics.psnr(sr, hr, **kw), device)
            got = ops.psnr(sr, hr, 1.0, 1.0, False, True, shave)
            ran = ops.last_backend("psnr")
        ok = bool(torch.allclose(got, want, rtol=1e-12))
        rows.append(_row("psnr", f"srkit-{b}", ran, shape, 0, sr.dtype, t, nbytes, bandwidth, ok, base))
    return rows


def skimage_reference(sr: torch.Tensor, hr: torch.Tensor, shave: int) -> list[tuple[float, float]]:
    return skimage_loop(sr.permute(0, 2, 3, 1).cpu().numpy(), hr.permute(0, 2, 3, 1).cpu().numpy(), shave)
