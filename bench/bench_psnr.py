"""Batched PSNR: srkit's backends against PyTorch eager, torch.compile, a per-image float64 loop
(BasicSR's way) and a scikit-image loop (both from the tests)."""

from __future__ import annotations

from typing import Any

from srkit.profiler import cases
from srkit.profiler.device import Peaks
from srkit.reference.psnr import psnr_basicsr_loop
from srkit.reference.ssim import skimage_loop

from .common import extra_row, op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    rows = op_rows("psnr", device, quick, peaks)
    (case,) = cases.psnr(device, quick)
    sr, hr = case.inputs
    rows.append(
        extra_row(
            case,
            "torch-per-image-f64",
            lambda: psnr_basicsr_loop(sr, hr, 4),
            device,
            peaks,
            rows,
            reps=3 if quick else 5,
        )
    )
    if device == "cpu":
        s_np, h_np = sr.permute(0, 2, 3, 1).numpy(), hr.permute(0, 2, 3, 1).numpy()
        rows.append(
            extra_row(
                case, "skimage-loop", lambda: skimage_loop(s_np, h_np, 4, with_ssim=False), device, peaks, rows, reps=3
            )
        )
    return rows
