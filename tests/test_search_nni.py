"""srkit-search through NNI: the search spaces it is given, the latency-aware reward, and a local
experiment with two tiny trials that runs to completion."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from srkit.models import BlockSpec
from srkit.search import nni_adapter as na
from srkit.search.space import Arch, BlockSpace


def test_reward_penalises_only_above_the_target() -> None:
    assert na.reward(30.0, 5.0, 10.0, 1.0) == 30.0
    assert na.reward(30.0, 20.0, 10.0, 1.0) == pytest.approx(29.0)  # 100 % over: one penalty
    assert na.reward(30.0, 15.0, 10.0, 2.0) == pytest.approx(29.0)
    assert na.reward(30.0, 1e6, None, 1.0) == 30.0


def test_search_spaces_and_parameters() -> None:
    space = BlockSpace(scale=2, channels=(16, 32), min_blocks=1, max_blocks=3,
                       candidates=(BlockSpec("wdsr_a", expansion=2), BlockSpec("imdb", attention="cca")))
    s = na.NNISettings(space=space.as_dict())
    ss = na.search_space(s)
    assert ss["channels"] == {"_type": "choice", "_value": [16, 32]}
    assert ss["depth"]["_value"] == [1, 2, 3] and ss["block2"]["_value"] == ["A2", "imdb+cca"]
    a = na.arch_from_parameters(space, {"channels": 32, "depth": 2, "block0": "imdb+cca", "block1": "A2", "block2": "A2"})
    assert a == Arch(32, (BlockSpec("imdb", attention="cca"), BlockSpec("wdsr_a", expansion=2)))
    with pytest.raises(ValueError, match="do not name"):
        na.arch_from_parameters(space, {"channels": 32, "depth": 1, "block0": "B6"})
    hpt = na.search_space(na.NNISettings(mode="hpt", model="imdn"))
    assert hpt["lr"] == {"_type": "uniform", "_value": [1e-4, 1e-3]} and hpt["batch"]["_value"] == [8, 16]
    with pytest.raises(ValueError, match="tuner"):
        na._tuner(type("E", (), {"config": type("C", (), {"tuner": type("T", (), {})()})()})(), na.ExperimentConfig(tuner="Grid"))


def _free_port() -> int:
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return int(sk.getsockname()[1])


@pytest.mark.slow
def test_a_local_experiment_with_two_tiny_trials_completes(tmp_path: Path) -> None:
    space = BlockSpace(scale=2, channels=(16,), min_blocks=1, max_blocks=2,
                       candidates=(BlockSpec("wdsr_a", expansion=2), BlockSpec("wdsr_b", expansion=4)))
    s = na.NNISettings(out=str(tmp_path / "run"), space=space.as_dict(), scale=2, iters=3, patch=32, batch=2,
                       latency_input=(16, 16), target_ms=0.001, penalty_db=0.5)
    done = na.run(s, na.ExperimentConfig(tuner="Random", trials=2, port=_free_port()), log=lambda m: None)
    assert len(done) == 2, sorted(p.name for p in (tmp_path / "run").rglob("*stderr*"))
    for r in done:
        assert r["latency_ms"] > 0 and r["psnr"] > 0
        assert r["reward"] == pytest.approx(na.reward(r["psnr"], r["latency_ms"], 0.001, 0.5))
        space.validate(Arch.from_dict(json.loads((tmp_path / "run" / "trials" / r["trial"] / "genotype.json").read_text())))
        assert (tmp_path / "run" / "trials" / r["trial"] / "metrics.json").is_file()
    assert na.best(done) == max(done, key=lambda r: r["reward"])
    with pytest.raises(ValueError, match="--resume"):
        na.run(s, na.ExperimentConfig(trials=2))
