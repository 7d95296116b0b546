"""The one-shot search's supernet under torchrun: two ranks (Gloo, loopback) take the steps one
process takes with the whole batch; the search then resumes in one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from srkit.search.runlog import RunLog
from srkit.search.supernet import load_checkpoint

from srkit.cli.search import main

from .test_search_study import _folder
from .test_train_ddp import free_port


def _args(data: Path, out: Path) -> list[str]:
    args = ["spos", "--out", str(out), "--data", str(data), "--holdout", "3", "--scale", "2", "--channels", "16"]
    args += ["--min-blocks", "1", "--max-blocks", "2", "--upsamplers", "direct", "--iters", "6", "--patch", "32"]
    return [*args, "--batch", "4", "--population", "3", "--topk", "2", "--generations", "1", "--latency-input", "16x16"]


@pytest.mark.slow
@pytest.mark.distributed
def test_the_supernet_on_two_ranks_equals_one_process_and_the_search_resumes_in_one(tmp_path: Path) -> None:
    data = _folder(tmp_path / "a", [f"a{i}" for i in range(4)], 0)
    two, one = tmp_path / "two", tmp_path / "one"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port())]
    done = subprocess.run(
        [*cmd, "-m", "srkit.cli.search", *_args(data, two), "--until", "supernet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "supernet: 6 steps on 2 processes" in done.stdout
    assert main([*_args(data, one), "--until", "supernet"]) == 0
    a, b = load_checkpoint(two / "supernet.pt"), load_checkpoint(one / "supernet.pt")
    assert a["step"] == b["step"] == 6
    assert a["losses"] == pytest.approx(b["losses"], rel=1e-5)
    for k, v in b["model"].items():
        assert torch.allclose(a["model"][k], v, rtol=1e-5, atol=1e-6), k
    cost = [r for r in RunLog(two / "log.jsonl").of_kind("cost") if r["phase"] == "supernet"]
    assert len(cost) == 1 and cost[0]["threads"] == 2  # both ranks' (torchrun gives each one thread)
    assert not (two / "fingerprint.json").exists()  # nothing was timed under torchrun
    assert main([*_args(data, two), "--resume", "--until", "evolution"]) == 0
    log = RunLog(two / "log.jsonl")
    assert log.of_kind("candidate") and json.loads((two / "fingerprint.json").read_text())["host"]


def test_under_torchrun_the_search_stops_after_its_supernet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from srkit.search import spos

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(ValueError, match="trains the supernet alone: add --until supernet"):
        spos.run(spos.quick("cpu"), tmp_path / "run")  # refused before any process group or file
    assert not (tmp_path / "run").exists()
