"""pixel_shuffle: srkit's backends against PyTorch eager and torch.compile (bit-exactness checked)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from srkit import ops
from srkit.ops import dispatch

from .common import time_fn


def shapes(device: str, quick: bool) -> list[tuple[tuple[int, int, int, int], int, torch.dtype]]:
    if device == "cpu":
        return [((1, 48, 180, 320), 4, torch.float32)] + ([] if quick else [((4, 12, 360, 640), 2, torch.uint8)])
    return [((16, 48, 360, 640), 4, torch.float16), ((16, 48, 360, 640), 4, torch.float32), ((1, 12, 1080, 1920), 2, torch.uint8)]


def run(device: str, quick: bool, bandwidth: float) -> list[dict]:
    rows = []
    for shape, r, dtype in shapes(device, quick):
        x = (torch.rand(shape, device=device) * 255).to(dtype)
        want = F.pixel_shuffle(x, r)
        nbytes = 2 * x.numel() * x.element_size()
        cands = {f"srkit-{b}": b for b in dispatch.available_backends(device) if not (device == "cpu" and b == "triton")}
        fns = {"torch-eager": lambda: F.pixel_shuffle(x, r)}
        if not quick:
            compiled = torch.compile(lambda t: F.pixel_shuffle(t, r))
            fns["torch-compile"] = lambda: compiled(x)
        base = None
        for label, fn in fns.items():
            t = time_fn(fn, device)
            base = base or t["median_ms"]
            rows.append(_row("pixel_shuffle", label, label, shape, r, dtype, t, nbytes, bandwidth, torch.equal(fn(), want), base))
        for label, b in cands.items():
            with ops.use_backend(b, strict=True):
                t = time_fn(lambda: ops.pixel_shuffle(x, r), device)
                ok = torch.equal(ops.pixel_shuffle(x, r), want)
                ran = ops.last_backend("pixel_shuffle")
            rows.append(_row("pixel_shuffle", label, ran, shape, r, dtype, t, nbytes, bandwidth, ok, base))
    return rows


def _row(op, label, ran, shape, r, dtype, t, nbytes, bandwidth, ok, base) -> dict:  # noqa: ANN001
    gbs = nbytes / (t["median_ms"] * 1e-3) / 1e9
    return {"op": op, "impl": label, "backend_ran": ran, "shape": list(shape), "r": r, "dtype": str(dtype).replace("torch.", ""),
            **t, "GB/s": gbs, "fraction_of_bandwidth": gbs / bandwidth, "speedup_vs_baseline": base / t["median_ms"], "correct": bool(ok)}
