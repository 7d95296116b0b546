"""Spandrel-style round trips: a model with random weights, its state dict renamed into a published
layout and saved, loaded back by detection alone, must rebuild the same hyper-parameters and give
bit-identical outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from srkit.models import create_model, load
from srkit.models.base import padded_hw
from srkit.models.registry import _plain


def random_weights(name: str, kw: dict[str, Any], seed: int = 0) -> torch.nn.Module:
    """The model with every parameter and buffer random (so a misplaced tensor changes the output)."""
    torch.manual_seed(seed)
    model = create_model(name, **kw).eval()
    with torch.no_grad():
        for k, t in model.state_dict().items():
            if t.is_floating_point() and "running_var" not in k and "mean" not in k:
                t.copy_(torch.randn_like(t) * 0.1)
    return model


def round_trip(
    name: str,
    kw: dict[str, Any],
    to_layout: Any,
    tmp_path: Path,
    layout: str | None,
    *,
    wrap: str | None = None,
    **load_kw: Any,
) -> torch.nn.Module:
    """Save ``to_layout(state dict)`` (under ``wrap`` if given), load it, check arch, hparams,
    layout name and outputs against the model built directly; the loaded model is returned."""
    want = random_weights(name, kw)
    sd = to_layout(dict(want.state_dict()))
    path = tmp_path / f"{name}.pth"
    torch.save({wrap: sd} if wrap else sd, path)
    got = load(path, **load_kw)
    assert got.arch == name
    assert {k: got.hparams[k] for k in kw} == _plain(kw)
    assert got.info.layout == layout
    cin = int(getattr(want, "in_channels", 3))
    x = torch.rand(1, cin, *padded_hw(want, (9, 11)))  # odd, non-square, raised to what the model needs
    with torch.no_grad():
        assert torch.equal(got(x), want(x))
    return got
