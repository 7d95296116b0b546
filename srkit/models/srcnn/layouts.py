"""SRCNN's layout in srkit's names (``body.0/2/4``: three convs back to the input's channels).

The authors released MATLAB/Caffe weights only. The scale is not in the weights (SRCNN works on
the bicubic-upsampled image): the loader takes it from ``scale=`` or the file name.
"""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport
from ..errors import StateDict


def _srcnn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    w = [sd[f"body.{i}.weight"] for i in (0, 2, 4)]
    return "srcnn", {
        "kernel_sizes": tuple(int(x.shape[-1]) for x in w),
        "widths": (w[0].shape[0], w[1].shape[0]),
        "in_channels": w[0].shape[1],
    }


def _is_srcnn(sd: StateDict) -> bool:
    """Exactly three convs, the last back to the input's channels, not all 3x3 (that stack is VDSR's shape)."""
    if set(sd) != {f"body.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")}:
        return False
    w = [sd[f"body.{i}.weight"] for i in (0, 2, 4)]
    return w[2].shape[0] == w[0].shape[1] and any(x.shape[-1] != 3 for x in w)


ARCHS = (ArchSupport("srcnn", ("body.0.weight", "body.2.weight", "body.4.weight"), _srcnn, check=_is_srcnn),)
