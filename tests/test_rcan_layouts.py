"""RCAN in its published layouts (the authors', named as EDSR-PyTorch names it, and BasicSR's),
spandrel's style, plus the authors' Set5 outputs when the shared data holds them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from srkit.models import create_model

from .roundtrip import round_trip
from .test_edsr_layouts import to_official  # RCAN's authors name things as EDSR-PyTorch does

VARIANTS = [
    {"scale": 2, "channels": 16, "groups": 2, "blocks": 2, "reduction": 4, "io_range": 255.0},
    {"scale": 3, "channels": 8, "groups": 1, "blocks": 3, "reduction": 2, "io_range": 255.0},
    {"scale": 4, "channels": 16, "groups": 3, "blocks": 1, "reduction": 16, "io_range": 255.0},
]


def to_basicsr(sd: dict[str, torch.Tensor], groups: int, blocks: int) -> dict[str, torch.Tensor]:
    """srkit names -> BasicSR's RCAN (the mean shifts are not in its state dict)."""
    out = {}
    for k, v in sd.items():
        if k.startswith(("sub_mean.", "add_mean.")):
            continue
        if m := re.fullmatch(r"body\.(\d+)\.body\.(\d+)\.body\.([02])\.(\w+)", k):
            k = f"body.{m[1]}.residual_group.{m[2]}.rcab.{m[3]}.{m[4]}"
        elif m := re.fullmatch(r"body\.(\d+)\.body\.(\d+)\.body\.3\.conv_du\.([02])\.(\w+)", k):
            k = f"body.{m[1]}.residual_group.{m[2]}.rcab.3.attention.{int(m[3]) + 1}.{m[4]}"
        elif m := re.fullmatch(rf"body\.(\d+)\.body\.{blocks}\.(\w+)", k):
            k = f"body.{m[1]}.conv.{m[2]}"
        elif m := re.fullmatch(rf"body\.{groups}\.(\w+)", k):
            k = f"conv_after_body.{m[1]}"
        else:
            k = re.sub(r"^head\.", "conv_first.", k)
            k = re.sub(r"^tail\.0\.", "upsample.", k)
            k = re.sub(r"^tail\.1\.", "conv_last.", k)
        out[k] = v
    return out


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: f"x{kw['scale']}-g{kw['groups']}-b{kw['blocks']}")
@pytest.mark.parametrize("layout", ["official", "basicsr", "basicsr_params_ema"])
def test_published_layouts_round_trip(kw: dict, layout: str, tmp_path: Path) -> None:
    if layout == "official":
        round_trip("rcan", kw, to_official, tmp_path, "RCAN (official repository / EDSR-PyTorch)")
    else:
        rename = lambda sd: to_basicsr(sd, kw["groups"], kw["blocks"])  # noqa: E731
        wrap = "params_ema" if layout.endswith("ema") else None
        round_trip("rcan", kw, rename, tmp_path, "RCAN (BasicSR)", wrap=wrap)


def test_channel_attention_is_the_mean_only_squeeze_excite() -> None:
    torch.manual_seed(0)
    m = create_model("rcan", scale=2, channels=16, groups=1, blocks=1, reduction=4).eval()
    ca = m.body[0].body[0].body[3]
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    w1, b1, w2, b2 = (
        t.double() for t in (ca.conv_du[0].weight, ca.conv_du[0].bias, ca.conv_du[2].weight, ca.conv_du[2].bias)
    )
    s = torch.sigmoid(
        torch.nn.functional.conv2d(torch.relu(torch.nn.functional.conv2d(x.mean((2, 3), keepdim=True), w1, b1)), w2, b2)
    )
    with torch.no_grad():
        torch.testing.assert_close(ca.double()(x), x * s)
