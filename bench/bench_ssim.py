"""Batched SSIM, and PSNR+SSIM together (the evaluation protocol's cost) against a scikit-image
loop (from the tests) on the CPU."""

from __future__ import annotations

from typing import Any

from srkit import metrics, ops
from srkit.ops import dispatch
from srkit.profiler import cases, opbench
from srkit.profiler.device import Peaks
from srkit.reference.ssim import skimage_loop

from .common import extra_row, op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    rows = op_rows("ssim", device, quick, peaks)
    if device != "cpu":
        return rows
    (case,) = cases.ssim(device, quick)
    sr, hr = case.inputs
    s_np, h_np = sr.permute(0, 2, 3, 1).numpy(), hr.permute(0, 2, 3, 1).numpy()
    both: list[dict[str, Any]] = []
    both.append(
        extra_row(
            case, "skimage-loop", lambda: skimage_loop(s_np, h_np, 4), device, peaks, both, reps=3, op="psnr+ssim"
        )
    )
    for b in dispatch.available_backends("cpu"):
        if b in ("triton", "torch"):
            continue  # the interpreter is no speed path; the float64 reference is timed above
        with ops.use_backend(b, strict=True):
            r = extra_row(
                case,
                f"srkit-{b}",
                lambda: metrics.psnr_ssim(sr, hr, y_only=True, shave=4),
                device,
                peaks,
                both,
                op="psnr+ssim",
            )
            r["backend_ran"] = opbench.ran([dispatch.last_call("psnr_ssim")])[0]  # type: ignore[list-item]
        both.append(r)
    base = both[0]["median_ms"]
    for r in both:
        r["speedup_vs_baseline"] = base / r["median_ms"]
    return rows + both
