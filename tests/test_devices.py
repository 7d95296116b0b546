"""srkit.devices: a device named without its index compares equal to the one tensors report."""

from __future__ import annotations

import pytest
import torch

from srkit.devices import resolved


def test_a_bare_accelerator_is_its_current_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert resolved("cuda") == torch.device("cuda", 1)
    assert resolved("cuda:0") == torch.device("cuda", 0)  # an index given is kept
    assert resolved(torch.device("cpu")) == torch.device("cpu") == resolved("cpu")
