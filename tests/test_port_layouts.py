"""VDSR, ESPCN and LapSRN in the PyTorch ports whose weights circulate (their authors released
MATLAB/Caffe/MatConvNet weights only), spandrel's style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from .roundtrip import round_trip


def vdsr_port(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """srkit -> pytorch-vdsr: ``input``, ``residual_layer.N.conv``, ``output`` (layer i at body.{2 i})."""
    last = max(int(k.split(".")[1]) for k in sd)
    out = {}
    for k, v in sd.items():
        i = int(k.split(".")[1])
        out[
            "input.weight" if i == 0 else "output.weight" if i == last else f"residual_layer.{i // 2 - 1}.conv.weight"
        ] = v
    return out


def espcn_port(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {re.sub(r"^upsampler\.0\.", "last_part.0.", re.sub(r"^body\.", "first_part.", k)): v for k, v in sd.items()}


def lapsrn_port(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^head\.0\.", "conv_input.", k)
        k = re.sub(r"^levels\.(\d)\.features\.", lambda m: f"convt_F{int(m[1]) + 1}.0.cov_block.", k)
        k = re.sub(r"^levels\.(\d)\.residual\.", lambda m: f"convt_R{int(m[1]) + 1}.", k)
        out[re.sub(r"^levels\.(\d)\.image_up\.", lambda m: f"convt_I{int(m[1]) + 1}.", k)] = v
    return out


@pytest.mark.parametrize("depth", [20, 5])
@pytest.mark.parametrize("layout", ["VDSR (pytorch-vdsr)", "VDSR (early pytorch-vdsr)"])
def test_vdsr_port_round_trips(depth: int, layout: str, tmp_path: Path) -> None:
    kw = {"scale": 3, "depth": depth, "channels": 8, "bias": False}
    early = lambda sd: {"features." + k[len("body.") :]: v for k, v in sd.items()}  # noqa: E731
    round_trip("vdsr", kw, vdsr_port if layout.endswith("(pytorch-vdsr)") else early, tmp_path, layout, scale=3)


@pytest.mark.parametrize("kw", [{"scale": 3}, {"scale": 4, "widths": (16, 8), "in_channels": 3}])
def test_espcn_port_round_trips(kw: dict, tmp_path: Path) -> None:
    round_trip("espcn", kw, espcn_port, tmp_path, "ESPCN (ESPCN-pytorch)")


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_lapsrn_port_round_trips(scale: int, tmp_path: Path) -> None:
    kw = {"scale": scale, "channels": 8, "depth": 3, "bias": False}
    round_trip("lapsrn", kw, lapsrn_port, tmp_path, "LapSRN (pytorch-LapSRN)")


def test_the_port_layouts_name_a_stray_tensor(tmp_path: Path) -> None:
    from srkit.models import CheckpointError, load

    from .roundtrip import random_weights

    sd = lapsrn_port(
        dict(random_weights("lapsrn", {"scale": 2, "channels": 8, "depth": 2, "bias": False}).state_dict())
    )
    sd["convt_X1.weight"] = torch.zeros(1)
    torch.save(sd, tmp_path / "lapsrn.pth")
    with pytest.raises(CheckpointError, match="unexpected tensor 'convt_X1.weight'"):
        load(tmp_path / "lapsrn.pth")
