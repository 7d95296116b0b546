"""The ESRGAN family's published state-dict layouts, renamed to srkit's module names, and their
hyper-parameters read from key names and shapes.

RRDBNet circulates in three layouts of the same network:
- BasicSR / Real-ESRGAN (``conv_first``, ``body.N.rdbM.convK``, ``conv_body``, ``conv_up1``, ``conv_up2``,
  ``conv_hr``, ``conv_last``): srkit's own names;
- the original ESRGAN repository (``model.0``, ``model.1.sub.N.RDBM.convK.0``, ``model.1.sub.<blocks>`` for
  the trunk conv, ``model.3`` / ``model.6`` upsampling convs, ``model.8`` HR conv, ``model.10`` last);
- its intermediate release (``RRDB_trunk.N.RDBM.convK``, ``trunk_conv``, ``upconv1/2``, ``HRconv``).
SRVGGNetCompact has one (``body.N``: convs at even indices, PReLU weights at odd ones).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..arch import ArchSupport, Layout
from ..errors import CheckpointError, StateDict

_OLD_RDB = re.compile(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$")
_MID_RDB = re.compile(r"RRDB_trunk\.(\d+)\.RDB(\d)\.conv(\d)\.(weight|bias)$")
_OLD_FIXED = {
    "model.0": "conv_first",
    "model.3": "conv_up1",
    "model.6": "conv_up2",
    "model.8": "conv_hr",
    "model.10": "conv_last",
}
_MID_FIXED = {"trunk_conv": "conv_body", "upconv1": "conv_up1", "upconv2": "conv_up2", "HRconv": "conv_hr"}


def _rename(sd: StateDict, rdb: re.Pattern[str], fixed: dict[str, str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in sd.items():
        m = rdb.match(k)
        if m:
            out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = v
            continue
        stem, _, param = k.rpartition(".")
        if stem not in fixed:
            raise CheckpointError(f"{what} layout: unexpected tensor {k!r}")
        out[f"{fixed[stem]}.{param}"] = v
    return out


def esrgan_old(sd: StateDict) -> dict[str, Any] | None:
    """The original ESRGAN names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "model.0.weight" not in sd or not any(_OLD_RDB.match(k) for k in sd):
        return None
    if "model.10.weight" not in sd:
        raise CheckpointError(
            "ESRGAN (old layout) without model.10: only its x4 form (two upsampling convs) is supported"
        )
    blocks = 1 + max(int(m.group(1)) for k in sd if (m := _OLD_RDB.match(k)))
    fixed = {**_OLD_FIXED, f"model.1.sub.{blocks}": "conv_body"}
    return _rename(sd, _OLD_RDB, fixed, "ESRGAN (old)")


def esrgan_intermediate(sd: StateDict) -> dict[str, Any] | None:
    if "trunk_conv.weight" not in sd or not any(_MID_RDB.match(k) for k in sd):
        return None
    return _rename(
        sd, _MID_RDB, {**_MID_FIXED, "conv_first": "conv_first", "conv_last": "conv_last"}, "ESRGAN (RRDB_trunk)"
    )


def rrdbnet(sd: StateDict) -> tuple[str, dict[str, Any]]:
    first, last = sd["conv_first.weight"], sd["conv_last.weight"]
    cin = last.shape[0]
    factor = math.isqrt(first.shape[1] // cin)
    scale = {1: 4, 2: 2, 4: 1}.get(factor)
    if scale is None or factor * factor * cin != first.shape[1]:
        raise CheckpointError(f"RRDBNet: conv_first takes {first.shape[1]} channels, not {cin} x 1, 4 or 16")
    blocks = len({m.group(1) for k in sd if (m := re.match(r"body\.(\d+)\.rdb1\.conv1\.weight$", k))})
    return "rrdbnet", {
        "scale": scale,
        "channels": first.shape[0],
        "blocks": blocks,
        "growth": sd["body.0.rdb1.conv1.weight"].shape[0],
        "in_channels": cin,
    }


def srvgg_compact(sd: StateDict) -> tuple[str, dict[str, Any]]:
    convs = sorted(
        int(m.group(1)) for k, v in sd.items() if (m := re.match(r"body\.(\d+)\.weight$", k)) and v.dim() == 4
    )
    first, last = sd["body.0.weight"], sd[f"body.{convs[-1]}.weight"]
    cin = first.shape[1]
    scale = math.isqrt(last.shape[0] // cin)
    if scale * scale * cin != last.shape[0]:
        raise CheckpointError(f"SRVGGNetCompact: the last conv has {last.shape[0]} outputs, not {cin} x scale^2")
    act = (
        "prelu" if "body.1.weight" in sd else "relu"
    )  # ReLU and LeakyReLU have no weights: ReLU, Real-ESRGAN's other choice
    return "srvgg_compact", {
        "scale": scale,
        "channels": first.shape[0],
        "convs": len(convs) - 2,
        "act": act,
        "in_channels": cin,
    }


def is_srvgg(sd: StateDict) -> bool:
    """SRVGG's keys are all ``body.N.weight|bias`` (its signature: nothing else), its convs 3x3, and
    the last one makes ``in_channels x scale^2`` outputs for a scale of 2 or more (so VDSR's and
    SRCNN's plain stacks, which end in ``in_channels`` outputs or another kernel, are not SRVGG)."""
    if "body.0.weight" not in sd or not all(re.match(r"body\.\d+\.(weight|bias)$", k) for k in sd):
        return False
    convs = sorted(
        ((int(k.split(".")[1]), v) for k, v in sd.items() if k.endswith(".weight") and v.dim() == 4),
        key=lambda t: t[0],
    )
    cin = convs[0][1].shape[1]
    return all(tuple(w.shape[2:]) == (3, 3) for _, w in convs) and convs[-1][1].shape[0] >= 4 * cin


ARCHS = (
    ArchSupport(
        "rrdbnet",
        ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_last.weight"),
        rrdbnet,
        layouts=(
            Layout("ESRGAN (original repository)", esrgan_old),
            Layout("ESRGAN (RRDB_trunk release)", esrgan_intermediate),
        ),
    ),
    ArchSupport("srvgg_compact", ("body.0.weight",), srvgg_compact, check=is_srvgg),
)
