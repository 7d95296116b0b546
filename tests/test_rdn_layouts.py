"""RDN in EDSR-PyTorch's layout (``SFENet``, ``RDBs.N.convs.M.conv.0``, ``LFF``, ``GFF``, ``UPNet``,
weights on [0, 255]), spandrel's style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from .roundtrip import round_trip

VARIANTS = [
    {"scale": 2, "channels": 8, "blocks": 2, "layers": 3, "growth": 4, "io_range": 255.0},
    {"scale": 3, "channels": 6, "blocks": 1, "layers": 2, "growth": 6, "io_range": 255.0},
    {"scale": 4, "channels": 8, "blocks": 3, "layers": 1, "growth": 4, "io_range": 255.0},
]


def to_edsr_pytorch(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^sfe([12])\.", r"SFENet\1.", k)
        k = re.sub(r"^rdbs\.(\d+)\.convs\.(\d+)\.0\.", r"RDBs.\1.convs.\2.conv.0.", k)
        k = re.sub(r"^rdbs\.(\d+)\.fuse\.", r"RDBs.\1.LFF.", k)
        k = re.sub(r"^gff\.", "GFF.", k)
        out[re.sub(r"^upnet\.", "UPNet.", k)] = v
    return out


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: f"x{kw['scale']}-d{kw['blocks']}-c{kw['layers']}")
def test_edsr_pytorch_layout_round_trips(kw: dict, tmp_path: Path) -> None:
    round_trip("rdn", kw, to_edsr_pytorch, tmp_path, "RDN (EDSR-PyTorch)")
