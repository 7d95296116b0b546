"""Batched SSIM (and PSNR+SSIM together, the evaluation protocol's cost) against a scikit-image loop."""

from __future__ import annotations

import torch

from srkit import metrics, ops
from srkit.ops import dispatch

from .bench_pixel_shuffle import _row
from .bench_psnr import batch, skimage_reference
from .common import time_fn


def run(device: str, quick: bool, bandwidth: float) -> list[dict]:
    sr, hr, shave = batch(device, quick)
    if device != "cpu":
        sr, hr = sr[:4], hr[:4]  # 4 x 4K: the float64 torch reference's temporaries stay within memory
    kw = dict(y_only=True, shave=shave)
    shape, nbytes, rows = list(sr.shape), 2 * sr.numel() * sr.element_size(), []
    sk_t = None
    if device == "cpu":
        sk_t = time_fn(lambda: skimage_reference(sr, hr, shave), device, warmup=1, reps=3)
        want = torch.tensor([s for _, s in skimage_reference(sr, hr, shave)], dtype=torch.float64)
        rows.append(_row("psnr+ssim", "skimage-loop", "numpy", shape, 0, sr.dtype, sk_t, nbytes, bandwidth, True, sk_t["median_ms"]))
    else:
        with ops.use_backend("torch", strict=True):
            want = metrics.ssim(sr, hr, **kw).cpu()
    for b in dispatch.available_backends(device):
        if (device == "cpu" and b == "triton") or (quick and b == "torch"):
            continue  # the interpreter is no speed path; the float64 reference is slow on purpose
        with ops.use_backend(b, strict=True):
            t = time_fn(lambda: metrics.ssim(sr, hr, **kw), device, reps=5)
            got = metrics.ssim(sr, hr, **kw).cpu()
            ran = ops.last_backend("ssim")
            both = time_fn(lambda: metrics.psnr_ssim(sr, hr, **kw), device, reps=5)
        ok = bool(torch.allclose(got, want, rtol=1e-9))
        rows.append(_row("ssim", f"srkit-{b}", ran, shape, 0, sr.dtype, t, nbytes, bandwidth, ok, t["median_ms"]))
        if sk_t is not None:
            rows.append(_row("psnr+ssim", f"srkit-{b}", ran, shape, 0, sr.dtype, both, nbytes, bandwidth, ok, sk_t["median_ms"]))
    return rows
