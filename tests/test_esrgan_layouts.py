"""The ESRGAN family in spandrel's style: every hyper-parameter variant, renamed into each published
layout (the renaming maps below are written from those layouts' key names), is detected back with
the same hyper-parameters and computes bit-identical outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from srkit.models import create_model, detect, load, model_entry

from .roundtrip import round_trip

RRDB_VARIANTS = [
    {"scale": 4, "channels": 16, "blocks": 2, "growth": 8},
    {"scale": 2, "channels": 8, "blocks": 1, "growth": 4},  # Real-ESRGAN x2plus: a 2x pixel-unshuffled input
    {"scale": 1, "channels": 8, "blocks": 3, "growth": 4, "in_channels": 1},
]
SRVGG_VARIANTS = [
    {"scale": 4, "channels": 8, "convs": 2, "act": "prelu"},
    {"scale": 2, "channels": 12, "convs": 3, "act": "relu"},
    {"scale": 3, "channels": 8, "convs": 1, "act": "prelu", "in_channels": 1},
]


def to_original_esrgan(sd: dict[str, torch.Tensor], blocks: int) -> dict[str, torch.Tensor]:
    """srkit (BasicSR) names -> the original ESRGAN repository's sequential names."""
    fixed = {
        "conv_first": "model.0",
        "conv_body": f"model.1.sub.{blocks}",
        "conv_up1": "model.3",
        "conv_up2": "model.6",
        "conv_hr": "model.8",
        "conv_last": "model.10",
    }
    out = {}
    for k, v in sd.items():
        m = re.match(r"body\.(\d+)\.rdb(\d)\.conv(\d)\.(weight|bias)$", k)
        if m:
            out[f"model.1.sub.{m[1]}.RDB{m[2]}.conv{m[3]}.0.{m[4]}"] = v
        else:
            stem, _, p = k.rpartition(".")
            out[f"{fixed[stem]}.{p}"] = v
    return out


def to_rrdb_trunk(sd: dict[str, torch.Tensor], blocks: int) -> dict[str, torch.Tensor]:
    """srkit names -> ESRGAN's intermediate release (RRDB_trunk, trunk_conv, upconv1/2, HRconv)."""
    del blocks
    fixed = {"conv_body": "trunk_conv", "conv_up1": "upconv1", "conv_up2": "upconv2", "conv_hr": "HRconv"}
    out = {}
    for k, v in sd.items():
        m = re.match(r"body\.(\d+)\.rdb(\d)\.conv(\d)\.(weight|bias)$", k)
        stem, _, p = k.rpartition(".")
        out[f"RRDB_trunk.{m[1]}.RDB{m[2]}.conv{m[3]}.{m[4]}" if m else f"{fixed.get(stem, stem)}.{p}"] = v
    return out


# the original ESRGAN releases are x4 networks; x2plus and x1 are Real-ESRGAN's, in BasicSR's layout
RRDB_CASES = [
    (kw, layout)
    for kw in RRDB_VARIANTS
    for layout in ("basicsr", "params_ema", "original", "rrdb_trunk")
    if kw["scale"] == 4 or layout in ("basicsr", "params_ema")
]


@pytest.mark.parametrize(
    ("kw", "layout"),
    RRDB_CASES,
    ids=[f"x{kw['scale']}-c{kw['channels']}-b{kw['blocks']}-{lay}" for kw, lay in RRDB_CASES],
)
def test_rrdbnet_layouts_round_trip(kw: dict, layout: str, tmp_path: Path) -> None:
    renames = {
        "basicsr": (lambda sd: sd, None, None),
        "params_ema": (lambda sd: sd, None, "params_ema"),
        "original": (lambda sd: to_original_esrgan(sd, kw["blocks"]), "ESRGAN (original repository)", None),
        "rrdb_trunk": (lambda sd: to_rrdb_trunk(sd, kw["blocks"]), "ESRGAN (RRDB_trunk release)", None),
    }
    rename, name, wrap = renames[layout]
    round_trip("rrdbnet", kw, rename, tmp_path, name, wrap=wrap)


@pytest.mark.parametrize(
    "kw", SRVGG_VARIANTS, ids=lambda kw: f"x{kw['scale']}-c{kw['channels']}-n{kw['convs']}-{kw['act']}"
)
@pytest.mark.parametrize("layout", ["basicsr", "params"])
def test_srvgg_layouts_round_trip(kw: dict, layout: str, tmp_path: Path) -> None:
    round_trip("srvgg_compact", kw, lambda sd: sd, tmp_path, None, wrap=None if layout == "basicsr" else "params")


def test_published_parameter_count_and_shapes() -> None:
    ((cfg, count, _, _),) = model_entry("rrdbnet").paper_params
    assert sum(p.numel() for p in create_model("rrdbnet", **cfg).parameters()) == count == 16_697_987
    m = create_model("rrdbnet", scale=2, channels=8, blocks=1, growth=4).eval()
    assert m.size_multiple == 2 and m(torch.rand(1, 3, 6, 8)).shape == (1, 3, 12, 16)
    v = create_model("srvgg_compact", scale=4, channels=8, convs=2).eval()
    assert v(torch.rand(1, 3, 5, 7)).shape == (1, 3, 20, 28)


def test_an_odd_input_to_x2plus_is_padded_by_the_upscaler() -> None:
    from srkit.inference import Upscaler

    m = create_model("rrdbnet", scale=2, channels=8, blocks=1, growth=4)
    out = Upscaler(m)(torch.randint(0, 256, (3, 7, 9), dtype=torch.uint8))
    assert out.shape == (3, 14, 18)


def test_a_truncated_original_layout_is_named() -> None:
    from srkit.models import CheckpointError

    torch.manual_seed(0)
    sd = to_original_esrgan(create_model("rrdbnet", scale=4, channels=8, blocks=1, growth=4).state_dict(), 1)
    del sd["model.10.weight"]
    with pytest.raises(CheckpointError, match="model.10"):
        from srkit.models.detect import to_srkit_layout

        to_srkit_layout(sd)
    assert (
        detect(
            to_srkit_layout(
                to_original_esrgan(create_model("rrdbnet", scale=4, channels=8, blocks=1, growth=4).state_dict(), 1)
            )[0]
        )[0]
        == "rrdbnet"
    )


def test_a_loaded_model_describes_itself_and_its_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from srkit.cli.main import main

    torch.manual_seed(0)
    kw = {"scale": 2, "channels": 8, "blocks": 1, "growth": 4}
    path = tmp_path / "x2plus.pth"
    torch.save({"params_ema": create_model("rrdbnet", **kw).state_dict()}, path)
    info = load(path).info
    assert (info.arch, info.scale, info.size_multiple, info.layout) == ("rrdbnet", 2, 2, None)
    old = tmp_path / "esrgan.pth"
    torch.save(
        to_original_esrgan(create_model("rrdbnet", scale=4, channels=8, blocks=1, growth=4).state_dict(), 1), old
    )
    assert load(old).info.layout == "ESRGAN (original repository)"
    assert main(["info", str(old)]) == 0 and "layout: ESRGAN (original repository)" in capsys.readouterr().out
    assert main(["models", "--describe", str(path)]) == 0 and "size_multiple: 2" in capsys.readouterr().out
