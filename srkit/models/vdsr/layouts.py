"""VDSR's layouts: srkit's (``body.N``), and the PyTorch port whose weights circulate (twtygqyy's
pytorch-vdsr, no biases: ``input``, ``residual_layer.N.conv``, ``output`` since its rewrite, and
``features.N`` before it). The authors released MATLAB/Caffe weights only. The port's network takes the bicubic-upsampled image; srkit's upsamples
inside ``forward``, so the weights are the same and only the caller's first step moves.
"""

from __future__ import annotations

import re
from typing import Any

from ..arch import ArchSupport, Layout, count_ids
from ..errors import CheckpointError, StateDict


def port(sd: StateDict) -> StateDict | None:
    """The port's names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "input.weight" not in sd or "residual_layer.0.conv.weight" not in sd or "output.weight" not in sd:
        return None
    inner = count_ids(sd, r"residual_layer\.(\d+)\.conv\.weight$")
    out: dict[str, Any] = {}
    for k, v in sd.items():  # layer i of the port is srkit's body.{2 i} (ReLUs sit between)
        m = re.fullmatch(r"residual_layer\.(\d+)\.conv\.weight", k)
        if m:
            out[f"body.{2 * (int(m.group(1)) + 1)}.weight"] = v
        elif k in ("input.weight", "output.weight"):
            out[f"body.{0 if k == 'input.weight' else 2 * (inner + 1)}.weight"] = v
        else:
            raise CheckpointError(f"VDSR (pytorch-vdsr) layout: unexpected tensor {k!r}")
    return out


def early_port(sd: StateDict) -> StateDict | None:
    """The port's first layout (one Sequential, ``features.N``: srkit's ``body.N``), or None."""
    if "features.0.weight" not in sd or not all(re.fullmatch(r"features\.\d+\.weight", k) for k in sd):
        return None
    return {"body." + k[len("features.") :]: v for k, v in sd.items()}


def _is_plain_stack(sd: StateDict) -> bool:
    """Every key ``body.{2 i}.weight|bias``, all convs 3x3, the last back to the input's channels."""
    convs = [v for k, v in sd.items() if re.fullmatch(r"body\.\d+\.weight", k)]
    last = sd.get(f"body.{2 * (len(convs) - 1)}.weight")
    return (
        all(re.fullmatch(r"body\.\d*[02468]\.(weight|bias)", k) for k in sd)
        and len(convs) >= 3
        and last is not None
        and all(tuple(w.shape[2:]) == (3, 3) for w in convs)
        and last.shape[0] == convs[0].shape[1]
    )


def _vdsr(sd: StateDict) -> tuple[str, dict[str, Any]]:
    first = sd["body.0.weight"]
    depth = sum(1 for k in sd if re.fullmatch(r"body\.\d+\.weight", k))
    return "vdsr", {
        "depth": depth,
        "channels": first.shape[0],
        "in_channels": first.shape[1],
        "bias": "body.0.bias" in sd,
    }


ARCHS = (
    ArchSupport(
        "vdsr",
        ("body.0.weight",),
        _vdsr,
        layouts=(Layout("VDSR (pytorch-vdsr)", port), Layout("VDSR (early pytorch-vdsr)", early_port)),
        check=_is_plain_stack,
    ),
)
