"""fp16 / bf16 safety: the rule flags what it should, and every architecture's declaration equals
the committed measurement of its official files (and is re-measured on one when the data is here)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from srkit.inference import Upscaler
from srkit.models import create_model, list_models, load
from srkit.models.precision import FP16_PEAK, MEASURED, RECORDS, UNMEASURED, check_half
from srkit.profiler.device import fingerprint

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT.parent / "shared" / "data" / "weights"
SET5 = ROOT.parent / "shared" / "data" / "datasets" / "Set5"


class Gain(nn.Module):
    """x -> (x * gain) / gain through one conv pair: exact in fp32, overflows fp16 for a big gain."""

    scale = 1

    def __init__(self, gain: float) -> None:
        super().__init__()
        self.up, self.down = nn.Conv2d(3, 3, 1, bias=False), nn.Conv2d(3, 3, 1, bias=False)
        with torch.no_grad():
            self.up.weight.copy_(torch.eye(3).view(3, 3, 1, 1) * gain)
            self.down.weight.copy_(torch.eye(3).view(3, 3, 1, 1) / gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.up(x))


def _pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    lr = torch.rand(1, 3, 16, 16, generator=g)
    hr = (lr + 0.03 * torch.randn(lr.shape, generator=g)).clamp(0, 1)  # a finite fp32 PSNR (about 30 dB)
    return [(lr, hr)]


def test_the_rule_flags_overflow_and_passes_a_harmless_model() -> None:
    big = check_half(Gain(1e5).eval(), _pairs(), torch.float16)
    assert not big.finite and not big.safe and big.peak_activation > FP16_PEAK
    near = check_half(Gain(FP16_PEAK * 2).eval(), _pairs(), torch.float16)  # finite, but too close to the edge
    assert near.finite and not near.safe
    ok = check_half(Gain(4.0).eval(), _pairs(), torch.float16)
    assert ok.finite and ok.safe and abs(ok.drop_db) < 0.05


def _records() -> list[dict]:
    return [r for path in RECORDS for r in json.loads((ROOT / path).read_text())["records"]]


def test_declarations_equal_the_recorded_measurements() -> None:
    """Safe where every CPU measured says so; the worst drop on any of them."""
    verdict: dict[str, dict[str, bool]] = {}
    worst: dict[str, dict[str, tuple[float, int]]] = {}
    for r in _records():
        verdict.setdefault(r["arch"], {}).setdefault(r["dtype"], True)
        verdict[r["arch"]][r["dtype"]] &= r["safe"]
        w = worst.setdefault(r["arch"], {})
        w[r["dtype"]] = max(w.get(r["dtype"], (-1.0, 0)), (r["drop_db"], r["scale"]))
    assert set(verdict) == set(MEASURED)
    for arch, (fp16, bf16, text) in MEASURED.items():
        assert (fp16, bf16) == (verdict[arch]["float16"], verdict[arch]["bfloat16"]), arch
        (f, fs), (b, bs) = worst[arch]["float16"], worst[arch]["bfloat16"]
        assert text == f"worst Set5 drop: fp16 {f:.3f} dB (x{fs}), bf16 {b:.3f} dB (x{bs})", arch


@pytest.mark.parametrize("name", list_models())
def test_every_model_says_whether_its_precision_was_measured(name: str) -> None:
    info = (
        create_model(name, scale=4 if name not in ("srcnn", "espcn") else 3).info
        if name != "lapsrn"
        else create_model(name).info
    )
    assert info.precision == UNMEASURED or info.precision.startswith("measured on the official files")
    assert (name in MEASURED) == info.precision.startswith("measured")


def test_the_upscaler_warns_when_a_precision_is_not_safe() -> None:
    imdn = create_model("imdn", scale=2, channels=16, blocks=1)
    with pytest.warns(UserWarning, match="imdn is not safe in bf16"):
        Upscaler(imdn, dtype=torch.bfloat16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Upscaler(create_model("imdn", scale=2, channels=16, blocks=1), dtype=torch.float16)


@pytest.mark.skipif(not (WEIGHTS / "fsrcnn_x3.pth").is_file() or not SET5.is_dir(), reason="shared data absent")
def test_a_real_file_measures_as_recorded() -> None:
    from srkit.evaluate import dataset
    from srkit.models.precision import centre_pair

    fp = fingerprint("cpu")
    here = {k: fp[k] for k in ("device", "cpu_isa")}  # bf16 differs by the CPU's ISA under one name
    docs = [json.loads((ROOT / path).read_text()) for path in RECORDS]
    mine = [d for d in docs if {k: d.get("fingerprint", {}).get(k) for k in here} == here]
    if not mine:
        pytest.skip(f"no precision record measured on this CPU ({here}): bench/precision_safety.py makes one")
    model = load(WEIGHTS / "fsrcnn_x3.pth").eval()
    pairs = [centre_pair(lr, hr, 3, 1) for _, hr, lr in dataset(str(SET5), 3)]
    want = {r["dtype"]: r for r in mine[0]["records"] if r["file"] == "fsrcnn_x3.pth"}
    for dtype in (torch.float16, torch.bfloat16):
        got = check_half(model, pairs, dtype)
        assert got.safe == want[got.dtype]["safe"]
        assert got.drop_db == pytest.approx(want[got.dtype]["drop_db"], abs=1e-3)


def test_checking_a_precision_leaves_the_models_weights_untouched() -> None:
    model = Gain(3.0).eval()
    with torch.no_grad():
        model.up.weight.mul_(1.0 + 1e-6)  # a value fp16 and bf16 cannot hold
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for dtype in (torch.float16, torch.bfloat16):
        check_half(model, _pairs(), dtype)
    assert all(torch.equal(before[k], v) and v.dtype == torch.float32 for k, v in model.state_dict().items())
