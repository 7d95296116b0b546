"""The fused upsampling tail against its eager composite, torch.compile, and a plain copy of its
output (the floor it should approach: within 10 % on a GPU)."""

from __future__ import annotations

from typing import Any

import torch

from srkit.profiler import cases
from srkit.profiler.device import Peaks

from .common import extra_row, op_rows


def run(device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    rows = op_rows("upsample_tail", device, quick, peaks)
    for case in cases.upsample_tail(device, quick):
        skip = case.inputs[1]
        out = torch.empty_like(skip)
        rows.append(
            extra_row(
                case,
                "copy-of-output",
                lambda out=out, skip=skip: out.copy_(skip),
                device,
                peaks,
                rows,
                nbytes=2 * skip.numel() * skip.element_size(),
                reps=20,
            )
        )
    return rows
