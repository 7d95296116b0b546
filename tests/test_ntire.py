"""The NTIRE efficient-SR report (srkit.profiler.ntire, ``srkit-bench ntire``): FLOPs by both
challenge conventions against hand counts and the published figures, the score's formula, and the
command's record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from srkit.cli.bench import main as bench_main
from srkit.models import load
from srkit.profiler import ntire


class Tiny(nn.Module):
    """3 -> 8 (3x3) -> LeakyReLU -> bilinear x2 -> 8 -> 3 (transposed 2x2, stride 2) -> adaptive pool."""

    in_channels = 3

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.LeakyReLU(0.1)
        self.deconv = nn.ConvTranspose2d(8, 3, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.interpolate(self.act(self.conv(x)), scale_factor=2, mode="bilinear")
        return nn.functional.adaptive_avg_pool2d(self.deconv(y), 5)


def test_both_conventions_count_what_they_say() -> None:
    s = 6
    conv = s * s * 8 * (3 * 9)  # output elements x inputs per output
    up = (2 * s) ** 2 * 8  # bilinear output elements
    deconv = up * (3 * 4)  # each input element meets out channels x kernel area
    pool_in = (4 * s) ** 2 * 3
    assert ntire.count_flops(Tiny(), "fvcore", side=s) == conv + 4 * up + deconv + pool_in
    assert ntire.count_flops(Tiny(), "ntire22", side=s) == conv + s * s * 8 + deconv
    with pytest.raises(ValueError, match="convention"):
        ntire.count_flops(Tiny(), "macs")


@pytest.mark.parametrize(
    ("name", "params_m", "fvcore_g", "ntire22_g"),
    [
        ("rlfn_ntire_x4.pth", 0.317, 19.67, 19.70),  # NTIRE2024_ESR README (fvcore); RLFN README (2022)
        ("span_ch28_ntire24_x4.pth", 0.151, 9.83, None),  # NTIRE 2024 report, SPAN
    ],
)
def test_the_published_figures(
    shared_data: Path, name: str, params_m: float, fvcore_g: float, ntire22_g: float | None
) -> None:
    model = load(shared_data / "weights" / name)
    assert round(ntire.params(model) / 1e6, 3) == params_m
    assert round(ntire.count_flops(model, "fvcore") / 1e9, 2) == fvcore_g
    if ntire22_g is not None:
        assert round(ntire.count_flops(model, "ntire22") / 1e9, 2) == ntire22_g


def test_the_score_formula() -> None:
    base = {"runtime_ms": 13.54, "flops": 19.67e9, "params": 0.317e6}
    assert ntire.score(base, base)["score"] == pytest.approx(math.exp(2), abs=1e-12)  # 7.3891, the README's
    half = {"runtime_ms": 13.54 / 2, "flops": 19.67e9, "params": 0.317e6 / 2}
    s = ntire.score(half, base)
    assert s["score_runtime"] == pytest.approx(math.e) and s["score_flops"] == pytest.approx(math.exp(2))
    assert s["score"] == pytest.approx(0.7 * math.e + 0.15 * math.exp(2) + 0.15 * math.e)


def test_the_command_records_every_model_against_the_baseline(tmp_path: Path) -> None:
    argv = ["--out", str(tmp_path), "ntire", "fsrcnn", "espcn", "--baseline", "espcn", "--runs", "2"]
    assert bench_main(argv) == 0
    (record,) = (json.loads(p.read_text()) for p in tmp_path.glob("ntire_*.json"))
    rows = {r["model"]: r for r in record["rows"]}
    assert list(rows) == ["espcn", "fsrcnn"] and record["flops_convention"] == "fvcore"
    assert rows["espcn"]["score"] == pytest.approx(math.exp(2))
    assert all(len(r["runs_ms"]) == 2 and r["runtime_ms"] > 0 and not r["trained"] for r in rows.values())
    assert rows["fsrcnn"]["flops"] == ntire.count_flops(load_zoo("fsrcnn"), "fvcore")


def load_zoo(name: str) -> nn.Module:
    from srkit.models import create_model

    return create_model(name, scale=4)
