"""LapSRN's layouts: srkit's (``head.0``, ``levels.L.features/residual/image_up``), and the PyTorch
port whose weights circulate (twtygqyy's pytorch-LapSRN: ``conv_input``, ``convt_F<L>.0.cov_block.K``,
``convt_R<L>``, ``convt_I<L>``, no biases; the same network, which also returns the x2 level).
The authors released MatConvNet weights only.
"""

from __future__ import annotations

import re
from typing import Any

from ..arch import ArchSupport, Layout, count_ids
from ..errors import CheckpointError, StateDict

_PORT = (
    (re.compile(r"conv_input\.(weight|bias)"), lambda m: f"head.0.{m[1]}"),
    (
        re.compile(r"convt_F(\d)\.0\.cov_block\.(\d+)\.(weight|bias)"),
        lambda m: f"levels.{int(m[1]) - 1}.features.{m[2]}.{m[3]}",
    ),
    (re.compile(r"convt_R(\d)\.(weight|bias)"), lambda m: f"levels.{int(m[1]) - 1}.residual.{m[2]}"),
    (re.compile(r"convt_I(\d)\.weight"), lambda m: f"levels.{int(m[1]) - 1}.image_up.weight"),
)


def port(sd: StateDict) -> StateDict | None:
    """The port's names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "conv_input.weight" not in sd or "convt_F1.0.cov_block.0.weight" not in sd:
        return None
    out: dict[str, Any] = {}
    for k, v in sd.items():  # level L of the port (from 1) is srkit's levels.{L - 1}
        for rx, new in _PORT:
            if m := rx.fullmatch(k):
                out[new(m)] = v
                break
        else:
            raise CheckpointError(f"LapSRN (pytorch-LapSRN) layout: unexpected tensor {k!r}")
    return out


def _lapsrn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    head = sd["head.0.weight"]
    levels = count_ids(sd, r"levels\.(\d+)\.residual\.weight$")
    return "lapsrn", {
        "scale": 2**levels,
        "channels": head.shape[0],
        "depth": count_ids(sd, r"levels\.0\.features\.(\d+)\.weight$") - 1,  # the last is the transposed conv
        "in_channels": head.shape[1],
        "bias": "head.0.bias" in sd,
    }


ARCHS = (
    ArchSupport(
        "lapsrn",
        ("head.0.weight", "levels.0.features.0.weight", "levels.0.residual.weight", "levels.0.image_up.weight"),
        _lapsrn,
        layouts=(Layout("LapSRN (pytorch-LapSRN)", port),),
    ),
)
