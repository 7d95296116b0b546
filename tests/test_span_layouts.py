"""SPAN's training form, as its authors' training code saves it (each Conv3XC's branches and the
eval_conv they fold into) and as srkit saves it (branches only): detected, loaded with the branches
kept for fine-tuning, and computing what the model built directly computes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from srkit.models import create_model, load
from srkit.models.span import Conv3XC


def with_eval_convs(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict plus each Conv3XC's folded copy under ``<name>.eval_conv`` (the authors' form)."""
    sd = dict(model.state_dict())
    for name, m in model.named_modules():
        if isinstance(m, Conv3XC):
            w, b = m.folded()
            sd[f"{name}.eval_conv.weight"], sd[f"{name}.eval_conv.bias"] = w.detach().clone(), b.detach().clone()
    return sd


@pytest.mark.parametrize("form", ["authors", "srkit"])
@pytest.mark.parametrize("kw", [{"scale": 4, "channels": 8}, {"scale": 2, "channels": 12}], ids=["x4-c8", "x2-c12"])
def test_training_form_loads_with_its_branches(form: str, kw: dict, tmp_path: Path) -> None:
    torch.manual_seed(0)
    want = create_model("span", **kw).eval()
    sd = with_eval_convs(want) if form == "authors" else want.state_dict()
    torch.save({"params": sd}, tmp_path / "span.pth")
    got = load(tmp_path / "span.pth")
    assert got.hparams["deploy"] is False and got.hparams["channels"] == kw["channels"]
    assert got.info.layout == ("SPAN (training form with its eval_conv copies)" if form == "authors" else None)
    x = torch.rand(1, 3, 10, 9)
    with torch.no_grad():
        assert torch.equal(got(x), want(x))
