"""DeCoNAS's dense space: exact subnets of the weight-sharing supernet, and a REINFORCE controller
that learns the connections a reward prefers and resumes exactly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from srkit.search.dense import DenseSpace, DenseSupernet, key
from srkit.search.reinforce import Controller, ReinforceConfig, complexity, reinforce
from srkit.search.runlog import RunLog

from srkit.models import from_genotype

SPACE = DenseSpace(scale=2, blocks=2, layers=3, channels=8)


def test_space_size_and_samples() -> None:
    assert SPACE.size() == (1 * 3 * 7) ** 2
    rng = random.Random()
    seen = set()
    for _ in range(200):
        g = SPACE.validate(SPACE.sample(rng))
        seen.add(key(g))
    assert len(seen) > 100
    with pytest.raises(ValueError, match="blocks"):
        SPACE.validate([[[0], [0, 1], [2]]])


def test_subnets_equal_the_supernet() -> None:
    torch.manual_seed(0)
    net = DenseSupernet(SPACE).double().eval()
    x = torch.rand(2, 3, 7, 9, dtype=torch.float64)
    rng = random.Random(4)
    for g in [SPACE.sample(rng) for _ in range(5)] + [[[[0], [0, 1], [0, 1, 2]]] * 2, [[[0], [1], [2]]] * 2]:
        sub = net.subnet(g).double().eval()
        with torch.no_grad():
            torch.testing.assert_close(sub(x), net(x, g), rtol=0, atol=1e-12)
        built = from_genotype({"arch": "deconasnet", "genotype": g, "channels": 8}, scale=2).double()
        built.load_state_dict(sub.state_dict())  # the genotype file's network has exactly these tensors


def test_complexity_grows_with_connections() -> None:
    sparse, dense = [[[0], [1], [2]]] * 2, [[[0], [0, 1], [0, 1, 2]]] * 2
    assert complexity(SPACE, sparse, "params", (8, 8), "cpu") < complexity(SPACE, dense, "params", (8, 8), "cpu")
    assert complexity(SPACE, dense, "flops", (8, 8), "cpu") == 2 * 64 * complexity(
        SPACE, dense, "params", (8, 8), "cpu"
    )
    with pytest.raises(ValueError, match="complexity"):
        complexity(SPACE, dense, "macs", (8, 8), "cpu")


def _synthetic(g: list) -> dict[str, float]:
    """Rewards layer 2 of every block reading node 0 only; every other connection costs a little."""
    r = 0.0
    for block in g:
        r += 1.0 if block[2] == [0] else 0.0
        r -= 0.1 * sum(len(ins) for ins in block)
    return {"reward": r}


def test_controller_learns_the_rewarded_connections() -> None:
    torch.manual_seed(0)
    ctrl = Controller(SPACE)
    hist = reinforce(ctrl, _synthetic, ReinforceConfig(steps=300, lr=0.1, seed=1))
    best = ctrl.most_likely()
    assert all(block[2] == [0] for block in best), best
    assert all(len(ins) == 1 for block in best for ins in block)  # extra connections are penalised away
    early = sum(h["reward"] for h in hist[:30]) / 30
    late = sum(h["reward"] for h in hist[-30:]) / 30
    assert late > early + 0.5


def test_controller_resumes_exactly(tmp_path: Path) -> None:
    cfg = ReinforceConfig(steps=12, lr=0.1, seed=3)
    whole = Controller(SPACE)
    reinforce(whole, _synthetic, cfg)
    part = Controller(SPACE)
    state, log = tmp_path / "controller.pt", RunLog(tmp_path / "log.jsonl")
    reinforce(part, _synthetic, ReinforceConfig(**{**cfg.__dict__, "steps": 5}), state_path=state, runlog=log)
    again = Controller(SPACE)
    hist = reinforce(again, _synthetic, cfg, state_path=state, runlog=RunLog(tmp_path / "log.jsonl"))
    assert torch.equal(again.logits, whole.logits)
    assert [h["step"] for h in hist] == list(range(12))
