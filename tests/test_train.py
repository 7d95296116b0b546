"""Training: it learns (beats bicubic on the held-out photographs), resumes exactly, and names bad
configurations and checkpoints."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from srkit.cli.main import main
from srkit.models import CheckpointError
from srkit.train import ConfigError, load_config, train

FAST = ["scale=4", "data.patch=48", "data.batch=8", "optim.lr=0.002"]


def test_short_training_beats_bicubic(tmp_path: Path) -> None:
    cfg = load_config(overrides=["model=srcnn_ps", "iters=300", "val_every=300", *FAST, "data.patch=64", "data.batch=16"])
    m = train(cfg, tmp_path, log=lambda *_: None)
    first, last = sum(m["losses"][:20]) / 20, sum(m["losses"][-20:]) / 20
    assert last < 0.8 * first
    assert m["val_psnr"] > m["bicubic_psnr"], m
    assert {"config.yaml", "latest.pt", "best.pt", "log.jsonl", "metrics.json"} <= {p.name for p in tmp_path.iterdir()}


def test_killed_run_resumes_to_the_uninterrupted_losses(tmp_path: Path) -> None:
    """A training process killed (SIGKILL) after its first checkpoint, then resumed, ends with exactly
    the losses of a run that was never interrupted (CPU, fixed seed)."""
    over = ["model=espcn", "model_args={in_channels: 3}", "iters=60", "val_every=10", *FAST]
    whole = train(load_config(overrides=over), tmp_path / "a", log=lambda *_: None)
    run = tmp_path / "b"
    args = [sys.executable, "-m", "srkit.cli.main", "train", "--out", str(run)] + [a for o in over for a in ("--set", o)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run / "latest.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    done = torch.load(run / "latest.pt", weights_only=True)["iteration"]
    assert 10 <= done < 60, f"the process was not killed mid-run (checkpoint at {done})"
    resumed = train(load_config(overrides=over), run, resume=True, log=lambda *_: None)
    assert resumed["losses"] == whole["losses"]


def test_corrupt_checkpoint_is_named_and_kept(tmp_path: Path) -> None:
    over = ["model=espcn", "iters=4", "val_every=4", *FAST]
    train(load_config(overrides=over), tmp_path, log=lambda *_: None)
    ckpt = tmp_path / "latest.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    before = ckpt.read_bytes()
    with pytest.raises(CheckpointError, match="cannot resume.*corrupt or truncated"):
        train(load_config(overrides=over), tmp_path, resume=True, log=lambda *_: None)
    assert ckpt.read_bytes() == before  # nothing overwritten


def test_config_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="optim.lrr: no such field"):
        load_config(overrides=["optim.lrr=1"])
    with pytest.raises(ConfigError, match="data.batch: expected int"):
        load_config(overrides=["data.batch=many"])
    with pytest.raises(ConfigError, match="amp: invalid value 'fp8'"):
        load_config(overrides=["amp=fp8"])
    y = tmp_path / "run.yaml"
    y.write_text("model: espcn\noptim:\n  lr: 1e-3\n  schedule: step\n")
    cfg = load_config(y, ["optim.step_size=5"])
    assert cfg.optim.lr == 1e-3 and cfg.optim.schedule == "step" and cfg.optim.step_size == 5


def test_cli_trains_a_genotype(tmp_path: Path) -> None:
    g = tmp_path / "arch.json"
    g.write_text(json.dumps({"arch": "deconasnet", "genotype": [[[0], [0, 1]]], "channels": 8}))
    assert main(["train", "--model", str(g), "--scale", "2", "--iters", "3", "--set", "val_every=3",
                 "--set", "data.patch=32", "--set", "data.batch=2", "--out", str(tmp_path / "run")]) == 0
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["iterations"] == 3 and m["val_images"] == ["chelsea", "coffee", "motorcycle_right"]
    with pytest.raises(SystemExit, match="scale: expected int"):
        main(["train", "--set", "scale=two", "--out", str(tmp_path / "bad")])
