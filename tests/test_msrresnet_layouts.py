"""MSRResNet in BasicSR's names (srkit's) and the older mmsr / KAIR ``MSRResNet1`` names, spandrel's style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from .roundtrip import round_trip

VARIANTS = [
    {"scale": 4, "channels": 8, "blocks": 2},
    {"scale": 2, "channels": 6, "blocks": 1},
    {"scale": 3, "channels": 8, "blocks": 3},
]


def to_mmsr(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {re.sub(r"^conv_hr\.", "HRconv.", re.sub(r"^body\.", "recon_trunk.", k)): v for k, v in sd.items()}


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: f"x{kw['scale']}-c{kw['channels']}-b{kw['blocks']}")
@pytest.mark.parametrize("layout", ["basicsr", "params_ema", "mmsr"])
def test_layouts_round_trip(kw: dict, layout: str, tmp_path: Path) -> None:
    if layout == "mmsr":
        round_trip("msrresnet", kw, to_mmsr, tmp_path, "MSRResNet (mmsr / KAIR MSRResNet1)")
    else:
        round_trip(
            "msrresnet", kw, lambda sd: sd, tmp_path, None, wrap="params_ema" if layout == "params_ema" else None
        )
