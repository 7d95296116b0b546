"""IMDN as KAIR saves it: its simplified network (no CCA, no global fusion) in one Sequential
(``model.0``, ``model.1.sub.N``, ``model.2``), spandrel's style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from .roundtrip import round_trip

VARIANTS = [
    {"scale": 4, "channels": 16, "blocks": 2},
    {"scale": 2, "channels": 8, "blocks": 3},
    {"scale": 3, "channels": 12, "blocks": 1, "in_channels": 1},
]


def to_kair(sd: dict[str, torch.Tensor], blocks: int) -> dict[str, torch.Tensor]:
    """srkit names -> KAIR's (``conv1..3`` are conv + LeakyReLU Sequentials, ``conv4`` and
    ``conv1x1`` plain convs; the body's last conv follows the blocks in ``model.1.sub``)."""
    out = {}
    for k, v in sd.items():
        if m := re.fullmatch(r"blocks\.(\d+)\.c([123])\.(\w+)", k):
            k = f"model.1.sub.{m[1]}.conv{m[2]}.0.{m[3]}"
        elif m := re.fullmatch(r"blocks\.(\d+)\.c([45])\.(\w+)", k):
            k = f"model.1.sub.{m[1]}.{'conv4' if m[2] == '4' else 'conv1x1'}.{m[3]}"
        else:
            stem, _, p = k.rpartition(".")
            k = {"fea_conv": "model.0", "LR_conv": f"model.1.sub.{blocks}", "upsampler.0": "model.2"}[stem] + "." + p
        out[k] = v
    return out


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: f"x{kw['scale']}-c{kw['channels']}-b{kw['blocks']}")
@pytest.mark.parametrize("wrap", [None, "params"])
def test_kair_layout_round_trips(kw: dict, wrap: str | None, tmp_path: Path) -> None:
    round_trip("imdn_simplified", kw, lambda sd: to_kair(sd, kw["blocks"]), tmp_path, "IMDN (KAIR)", wrap=wrap)
