"""EDSR in its official layout (EDSR-PyTorch: 1x1-conv mean shifts, a one-conv head Sequential,
weights on [0, 255]), spandrel's style: variants renamed into it are detected back with the same
hyper-parameters and identical outputs; srkit's own [0, 1] weights keep io_range 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from srkit.models import create_model, load

VARIANTS = [
    ("edsr_baseline", {"scale": 2, "channels": 8, "blocks": 2, "res_scale": 1.0, "io_range": 255.0}),
    ("edsr_baseline", {"scale": 3, "channels": 12, "blocks": 1, "res_scale": 1.0, "io_range": 255.0}),
    ("edsr_baseline", {"scale": 4, "channels": 8, "blocks": 3, "res_scale": 1.0, "io_range": 1.0}),
]


def to_official(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """srkit names -> EDSR-PyTorch's."""
    out = {}
    for k, v in sd.items():
        k = k.replace("sub_mean.shifter.", "sub_mean.").replace("add_mean.shifter.", "add_mean.")
        out["head.0." + k[len("head.") :] if k.startswith("head.") else k] = v
    return out


@pytest.mark.parametrize(
    ("name", "kw"), VARIANTS, ids=[f"x{kw['scale']}-c{kw['channels']}-r{kw['io_range']:g}" for _, kw in VARIANTS]
)
def test_official_layout_round_trips(name: str, kw: dict, tmp_path: Path) -> None:
    torch.manual_seed(0)
    want = create_model(name, **kw).eval()
    path = tmp_path / "edsr.pt"
    torch.save(to_official(want.state_dict()), path)
    got = load(path)
    assert got.arch == name and {k: got.hparams[k] for k in kw} == kw
    assert got.info.layout == "EDSR (official repository)"
    x = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        assert torch.equal(got(x), want(x))


def test_io_range_keeps_the_network_the_same_function() -> None:
    torch.manual_seed(0)
    plain = create_model("edsr_baseline", scale=2, channels=8, blocks=1).eval()
    ranged = create_model("edsr_baseline", scale=2, channels=8, blocks=1, io_range=255.0).eval()
    sd = plain.state_dict()  # the same weights, biases moved to the [0, 255] scale of the official code
    for k in list(sd):
        if k.endswith(".bias") and not k.startswith(("sub_mean", "add_mean")):
            sd[k] = sd[k] * 255.0
    sd.update({k: v for k, v in ranged.state_dict().items() if "mean" in k})
    ranged.load_state_dict(sd)
    x = torch.rand(1, 3, 7, 8)
    with torch.no_grad():
        torch.testing.assert_close(ranged(x), plain(x), rtol=1e-5, atol=1e-5)


def to_basicsr(sd: dict[str, torch.Tensor], blocks: int) -> dict[str, torch.Tensor]:
    """srkit names -> BasicSR's EDSR (its mean is not in the state dict)."""
    out = {}
    for k, v in sd.items():
        if k.startswith(("sub_mean.", "add_mean.")):
            continue
        k = re.sub(r"^body\.(\d+)\.body\.0\.", r"body.\1.conv1.", k)
        k = re.sub(r"^body\.(\d+)\.body\.2\.", r"body.\1.conv2.", k)
        k = re.sub(rf"^body\.{blocks}\.", "conv_after_body.", k)
        k = re.sub(r"^head\.", "conv_first.", k)
        out[re.sub(r"^tail\.1\.", "conv_last.", re.sub(r"^tail\.0\.", "upsample.", k))] = v
    return out


@pytest.mark.parametrize(
    ("name", "kw"),
    [(n, {**kw, "io_range": 255.0}) for n, kw in VARIANTS],
    ids=[f"x{kw['scale']}-c{kw['channels']}" for _, kw in VARIANTS],
)
@pytest.mark.parametrize("wrap", [None, "params"])
def test_basicsr_layout_round_trips(name: str, kw: dict, wrap: str | None, tmp_path: Path) -> None:
    from .roundtrip import round_trip

    round_trip(name, kw, lambda sd: to_basicsr(sd, kw["blocks"]), tmp_path, "EDSR (BasicSR)", wrap=wrap)
