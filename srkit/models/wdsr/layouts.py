"""WDSR-A/B's published layouts: srkit's, and the authors' NTIRE 2018 repository.

The official files keep weight norm the old way (``weight_g`` / ``weight_v``; srkit's
parametrisations store the same two tensors as ``original0`` / ``original1``; files saved with it
removed hold plain ``weight``), wrap the head, tail
and skip convs in Sequentials (``head.0``, ``tail.0``, ``skip.0``) and number each block's convs
(``body.N.body.0/2[/3]``). The network is the same: on [0, 255] with ``(x - 255 mean) / 127.5``,
which is srkit's ``(x - mean) * 2`` on [0, 1], with the DIV2K mean (the official default).
"""

from __future__ import annotations

import re
from typing import Any

import torch

from ..arch import ArchSupport, Layout, count_ids, subpixel_scale
from ..blocks import DIV2K_RGB_MEAN
from ..errors import CheckpointError, StateDict

_W = r"(bias|weight|weight_g|weight_v)"
_PARAM = {  # a file saved with the weight norm removed has plain weights
    "bias": "bias",
    "weight": "weight",
    "weight_g": "parametrizations.weight.original0",
    "weight_v": "parametrizations.weight.original1",
}
_STEM = re.compile(r"(head|tail|skip)\.0|body\.(\d+)\.body\.([023])")


def official(sd: StateDict) -> StateDict | None:
    """The official names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if not any(f"head.0.{w}" in sd for w in ("weight_v", "weight")) or "skip.0.bias" not in sd:
        return None
    # B: 1x1 widen, 1x1 low-rank, kxk (body.0/2/3); A: kxk, kxk (body.0/2)
    convs = {"0": "expand", "2": "reduce", "3": "conv"} if "body.0.body.3.bias" in sd else {"0": "expand", "2": "conv"}
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        stem, _, param = k.rpartition(".")
        m = _STEM.fullmatch(stem)
        if m is None or param not in _PARAM or (m[3] is not None and m[3] not in convs):
            raise CheckpointError(f"WDSR (official repository) layout: unexpected tensor {k!r}")
        new = {"head": "head", "tail": "tail_conv", "skip": "skip"}[m[1]] if m[1] else f"body.{m[2]}.{convs[m[3]]}"
        out[f"{new}.{_PARAM[param]}"] = v
    out["tail.mean"] = torch.tensor(DIV2K_RGB_MEAN)
    return out


def _weight(sd: StateDict, stem: str) -> torch.Tensor:
    return sd.get(f"{stem}.weight", sd.get(f"{stem}.parametrizations.weight.original1"))  # type: ignore[return-value]


def _wdsr(sd: StateDict) -> tuple[str, dict[str, Any]]:
    head, expand, conv = _weight(sd, "head"), _weight(sd, "body.0.expand"), _weight(sd, "body.0.conv")
    channels = head.shape[0]
    kw: dict[str, Any] = {
        "scale": subpixel_scale(_weight(sd, "tail_conv"), head.shape[1], "WDSR"),
        "channels": channels,
        "blocks": count_ids(sd, r"body\.(\d+)\.expand\."),
        "expansion": expand.shape[0] // channels,
        "kernel_size": conv.shape[-1],
        "weight_norm": "head.parametrizations.weight.original1" in sd,
    }
    if "body.0.reduce.bias" not in sd:
        return "wdsr_a", kw
    narrow = _weight(sd, "body.0.reduce").shape[0]
    kw["low_rank"] = 0.8 if int(channels * 0.8) == narrow else narrow / channels  # the paper's 0.8 when it fits
    return "wdsr_b", kw


def _is_wdsr(sd: StateDict) -> bool:
    return _weight(sd, "head") is not None and _weight(sd, "skip") is not None and _weight(sd, "tail_conv") is not None


ARCHS = (
    ArchSupport(
        "wdsr",
        ("head.bias", "body.0.expand.bias", "tail_conv.bias", "skip.bias", "tail.mean"),
        _wdsr,
        layouts=(Layout("WDSR (official NTIRE 2018 repository)", official),),
        check=_is_wdsr,
    ),
)
