"""WDSR-A/B in the authors' NTIRE 2018 layout (old-style weight norm ``weight_g`` / ``weight_v``,
Sequential-wrapped head, tail and skip, numbered block convs), spandrel's style: every variant
renamed into it is detected back with its hyper-parameters and identical outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from .roundtrip import round_trip

VARIANTS = [
    ("wdsr_a", {"scale": 2, "channels": 8, "blocks": 2, "expansion": 4, "kernel_size": 3}),
    ("wdsr_a", {"scale": 4, "channels": 6, "blocks": 1, "expansion": 2, "kernel_size": 5}),
    ("wdsr_b", {"scale": 3, "channels": 10, "blocks": 2, "expansion": 6, "low_rank": 0.8}),
    ("wdsr_b", {"scale": 2, "channels": 8, "blocks": 1, "expansion": 3, "low_rank": 0.5, "kernel_size": 5}),
    ("wdsr_a", {"scale": 3, "channels": 8, "blocks": 2, "weight_norm": False}),  # saved with the norm removed
    ("wdsr_b", {"scale": 4, "channels": 8, "blocks": 2, "weight_norm": False}),
]
_PARAM = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}


def to_official(sd: dict[str, torch.Tensor], block: str) -> dict[str, torch.Tensor]:
    """srkit names -> the NTIRE 2018 repository's."""
    convs = {"expand": 0, "conv": 2} if block == "a" else {"expand": 0, "reduce": 2, "conv": 3}
    out = {}
    for k, v in sd.items():
        if k == "tail.mean":
            continue  # the official model holds its mean outside the state dict
        for a, b in _PARAM.items():
            k = k.replace(a, b)
        if m := re.fullmatch(r"body\.(\d+)\.(expand|reduce|conv)\.(\w+)", k):
            k = f"body.{m[1]}.body.{convs[m[2]]}.{m[3]}"
        else:
            stem, _, p = k.partition(".")
            k = f"{ {'tail_conv': 'tail'}.get(stem, stem) }.0.{p}"
        out[k] = v
    return out


@pytest.mark.parametrize(("name", "kw"), VARIANTS, ids=[f"{n}-x{kw['scale']}-c{kw['channels']}" for n, kw in VARIANTS])
def test_official_layout_round_trips(name: str, kw: dict, tmp_path: Path) -> None:
    block = name[-1]
    round_trip(name, kw, lambda sd: to_official(sd, block), tmp_path, "WDSR (official NTIRE 2018 repository)")


@pytest.mark.parametrize("wrap", ["state_dict", "params_ema"])
def test_srkit_layout_with_and_without_weight_norm(wrap: str, tmp_path: Path) -> None:
    for wn in (True, False):
        kw = {"scale": 2, "channels": 8, "blocks": 1, "weight_norm": wn}
        round_trip("wdsr_b", kw, lambda sd: sd, tmp_path, None, wrap=wrap)
