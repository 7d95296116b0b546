"""Training: it learns (beats bicubic on the held-out photographs), resumes exactly, and names bad
configurations and checkpoints."""

from __future__ import annotations

import json
import re
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
    cfg = load_config(
        overrides=["model=srcnn_ps", "iters=300", "val_every=300", *FAST, "data.patch=64", "data.batch=16"]
    )
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
    args = [sys.executable, "-m", "srkit.cli.main", "train", "--out", str(run), "--recipe", "none"] + [
        a for o in over for a in ("--set", o)
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run / "latest.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    done = torch.load(run / "latest.pt", weights_only=True)["iteration"]
    assert 10 <= done < 60, f"the process was not killed mid-run (checkpoint at {done})"
    resumed = train(load_config(overrides=over), run, resume=True, log=lambda *_: None)
    # Equal to float32 rounding, not bit for bit: on an AVX-512 host the same fresh run gives a first
    # loss of 0.29136541 or 0.29136536 by process (oneDNN), and 60 steps carry that to ~1e-4 relative;
    # a resume that drops Adam's state is off by up to 0.79 relative (tried by hand).
    assert len(resumed["losses"]) == len(whole["losses"])
    assert resumed["losses"] == pytest.approx(whole["losses"], rel=1e-3)


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
    for bad, allowed in (
        ("optim.lr=.inf", "a finite number > 0"),
        ("optim.lr=.nan", "a finite number > 0"),
        ("optim.clip_grad=-1", "null or a finite number > 0"),
        ("optim.warmup_iters=-5", "an integer >= 0"),
        ("max_minutes=-1", "null or a finite number > 0"),
        ("scale=0", "an integer >= 1"),
        ("data.workers=-1", "an integer >= 0"),
        ("data.holdout=1", "0 (none) or an integer >= 2"),
        ("optim.momentum=1.5", "a number in [0, 1)"),
    ):
        with pytest.raises(
            ConfigError, match=rf"^{bad.split('=')[0]}: invalid value .* \(allowed: {re.escape(allowed)}\)$"
        ):
            load_config(overrides=[bad])
    y = tmp_path / "run.yaml"
    y.write_text("model: espcn\noptim:\n  lr: 1e-3\n  schedule: step\n")
    cfg = load_config(y, ["optim.step_size=5"])
    assert cfg.optim.lr == 1e-3 and cfg.optim.schedule == "step" and cfg.optim.step_size == 5


def test_cli_trains_a_genotype(tmp_path: Path) -> None:
    g = tmp_path / "arch.json"
    g.write_text(json.dumps({"arch": "deconasnet", "genotype": [[[0], [0, 1]]], "channels": 8}))
    assert (
        main(
            [
                "train",
                "--model",
                str(g),
                "--scale",
                "2",
                "--iters",
                "3",
                "--set",
                "val_every=3",
                "--set",
                "data.patch=32",
                "--set",
                "data.batch=2",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["iterations"] == 3 and m["val_images"] == ["chelsea", "coffee", "motorcycle_right"]
    assert main(["train", "--set", "scale=two", "--out", str(tmp_path / "bad")]) == 2


def test_a_finished_run_is_kept_unless_resumed_or_overwritten(tmp_path: Path) -> None:
    over = ["model=espcn", "iters=2", "val_every=2", *FAST]
    train(load_config(overrides=over), tmp_path, log=lambda *_: None, progress=False)
    before = {
        p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.suffix in (".pt", ".json", ".jsonl")
    }
    assert main(["train", "--out", str(tmp_path), *[a for o in over for a in ("--set", o)]]) == 2
    assert {n: (tmp_path / n).read_bytes() for n in before} == before  # nothing replaced, nothing appended
    log_lines = len((tmp_path / "log.jsonl").read_text().splitlines())
    assert main(["train", "--out", str(tmp_path), "--overwrite", *[a for o in over for a in ("--set", o)]]) == 0
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == log_lines  # a fresh log, not the old one continued
    assert (
        main(["train", "--out", str(tmp_path), "--resume", "--overwrite", *[a for o in over for a in ("--set", o)]])
        == 2
    )


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path: Path) -> None:
    from filelock import FileLock

    from srkit.train.runfolder import LOCK_NAME, RunFolderError

    with FileLock(tmp_path / LOCK_NAME):  # what a running training holds
        with pytest.raises(RunFolderError, match="another srkit run is writing into this folder"):
            train(
                load_config(overrides=["model=espcn", "iters=1", *FAST]), tmp_path, log=lambda *_: None, progress=False
            )
    assert not (tmp_path / "config.yaml").exists()


def test_a_crash_between_log_and_checkpoint_resumes_with_every_record_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from srkit.train import trainer

    over = ["model=espcn", "iters=8", "val_every=2", *FAST]
    real_save = trainer.save_checkpoint

    class Crash(Exception):
        pass

    def crash_before_checkpoint(path: Path, st: trainer.State, *args: object) -> None:
        if path.name == "latest.pt" and st.it == 6:
            raise Crash  # the log already holds iteration 6; latest.pt stays at 4
        real_save(path, st, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(trainer, "save_checkpoint", crash_before_checkpoint)
    with pytest.raises(Crash):
        train(load_config(overrides=over), tmp_path, log=lambda *_: None, progress=False)
    with (tmp_path / "log.jsonl").open("a") as f:
        f.write('{"iteration": 8, "lo')  # and a line torn mid-write
    monkeypatch.setattr(trainer, "save_checkpoint", real_save)
    train(load_config(overrides=over), tmp_path, resume=True, log=lambda *_: None, progress=False)
    its = [json.loads(line)["iteration"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert its == [2, 4, 6, 8]


def test_resume_applies_a_new_lr_and_length_and_refuses_other_changes(tmp_path: Path) -> None:
    over = ["model=espcn", "iters=4", "val_every=2", "optim.schedule=none", *FAST]
    train(load_config(overrides=over), tmp_path, log=lambda *_: None, progress=False)
    with pytest.raises(ConfigError, match=r"--resume cannot change loss: 'l1' -> 'mse'"):
        train(load_config(overrides=[*over, "loss=mse"]), tmp_path, resume=True, log=lambda *_: None, progress=False)
    said: list[str] = []
    more = [*over, "iters=6", "optim.lr=0.0005"]
    m = train(load_config(overrides=more), tmp_path, resume=True, log=said.append, progress=False)
    assert m["iterations"] == 6 and any("applying the changed iters, optim.lr" in s for s in said)
    blob = torch.load(tmp_path / "latest.pt", weights_only=True)
    assert blob["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0005)  # what ran, not the old 0.002
    assert load_config(tmp_path / "config.yaml").optim.lr == 0.0005  # and config.yaml says so


def test_resume_without_a_checkpoint_refuses_instead_of_starting_again(tmp_path: Path) -> None:
    from srkit.train.runfolder import RunFolderError

    over = ["model=espcn", "iters=2", "val_every=2", *FAST]
    train(load_config(overrides=over), tmp_path, log=lambda *_: None, progress=False)
    (tmp_path / "latest.pt").unlink()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(RunFolderError, match="no latest.pt to continue from.*nothing was changed"):
        train(load_config(overrides=over), tmp_path, resume=True, log=lambda *_: None, progress=False)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_a_finished_recipe_run_extends_with_more_iterations(tmp_path: Path) -> None:
    over = ["model=espcn", "recipe=quick", "val_every=4", *FAST]
    train(load_config(overrides=[*over, "iters=4"]), tmp_path, log=lambda *_: None, progress=False)
    first = load_config(tmp_path / "config.yaml")
    said: list[str] = []
    m = train(load_config(overrides=[*over, "iters=8"]), tmp_path, resume=True, log=said.append, progress=False)
    assert m["iterations"] == 8 and any("applying the changed iters" in s for s in said)
    now = load_config(tmp_path / "config.yaml")
    assert (now.optim.step_size, now.optim.warmup_iters) == (first.optim.step_size, first.optim.warmup_iters)


def test_a_run_folder_refuses_another_kind_of_run(tmp_path: Path) -> None:
    from srkit.cli.search import main as search_main
    from srkit.train.runfolder import KIND_FILE, RunFolderError

    over = ["model=espcn", "iters=2", "val_every=2", *FAST]
    train(load_config(overrides=over), tmp_path / "t", log=lambda *_: None, progress=False)
    assert json.loads((tmp_path / "t" / KIND_FILE).read_text()) == {"kind": "training"}
    before = {p.name: p.read_bytes() for p in (tmp_path / "t").iterdir() if p.is_file()}
    for flag in ("--resume", "--overwrite"):
        assert search_main(["spos", "--out", str(tmp_path / "t"), flag, "--iters", "2"]) == 2
    assert {p.name: p.read_bytes() for p in (tmp_path / "t").iterdir() if p.is_file()} == before
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "space.json").write_text("{}")  # a search folder from before the mark
    with pytest.raises(RunFolderError, match="holds a search run, not a training run"):
        train(load_config(overrides=over), tmp_path / "s", overwrite=True, log=lambda *_: None, progress=False)


def _terminated(signum: int, frame: object) -> None:
    from srkit.cli.errors import Terminated

    raise Terminated


def _train_signalled_in_step(over: list[str], out: Path, at: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Train with SIGTERM sent from inside step ``at`` (recorded, not acted on), srkit's CLI handler
    installed; the run must end in Terminated and give the handler back."""
    import os
    import signal

    from srkit.cli.errors import Terminated
    from srkit.train import trainer

    step = trainer._Run.step

    def step_then_signal(self: trainer._Run, it: int, *a: torch.Tensor) -> None:
        if it == at:
            os.kill(os.getpid(), signal.SIGTERM)
        step(self, it, *a)

    with monkeypatch.context() as m:
        m.setattr(trainer._Run, "step", step_then_signal)
        old = signal.signal(signal.SIGTERM, _terminated)
        try:
            with pytest.raises(Terminated):  # not swallowed: a search would go on to its next training
                train(load_config(overrides=over), out, log=lambda *_: None)
            assert signal.getsignal(signal.SIGTERM) is _terminated  # the handler given back
        finally:
            signal.signal(signal.SIGTERM, old)


def test_a_stop_mid_interval_keeps_its_step_and_resumes_to_the_uninterrupted_losses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM between two validations: the step under way finishes, latest.pt holds it (not the
    last validation's), the signal then acts as before (srkit's CLIs raise Terminated), and the
    resumed run ends with the uninterrupted run's losses."""
    over = ["model=espcn", "model_args={in_channels: 3}", "iters=40", "val_every=20", *FAST]
    whole = train(load_config(overrides=over), tmp_path / "a", log=lambda *_: None)
    _train_signalled_in_step(over, tmp_path / "b", 27, monkeypatch)
    assert torch.load(tmp_path / "b" / "latest.pt", weights_only=True)["iteration"] == 28
    lines = [json.loads(x) for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines] == [20]
    resumed = train(load_config(overrides=over), tmp_path / "b", resume=True, log=lambda *_: None)
    assert len(resumed["losses"]) == len(whole["losses"])
    assert resumed["losses"] == pytest.approx(whole["losses"], rel=1e-3)  # float32 rounding, as above
    lines = [json.loads(x) for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines] == [20, 40]


def test_a_stop_in_the_last_step_finishes_the_run_then_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _train_signalled_in_step(["model=espcn", "iters=8", "val_every=4", *FAST], tmp_path, 7, monkeypatch)
    assert json.loads((tmp_path / "metrics.json").read_text())["iterations"] == 8  # the run finished first


def test_a_second_stop_acts_at_once_and_the_handlers_come_back() -> None:
    import os
    import signal

    from srkit.train.stopping import deferred_stops

    seen: list[int] = []
    old = signal.signal(signal.SIGINT, lambda s, f: seen.append(s))
    try:
        with deferred_stops() as stops:
            os.kill(os.getpid(), signal.SIGINT)
            assert stops.signum == signal.SIGINT and seen == []  # the first: recorded only
            os.kill(os.getpid(), signal.SIGINT)
            assert seen == [signal.SIGINT]  # the second: what the signal did before
        assert signal.getsignal(signal.SIGINT) is not stops._record
        with deferred_stops(enabled=False) as off:
            os.kill(os.getpid(), signal.SIGINT)
            assert off.signum is None and seen == [signal.SIGINT] * 2
    finally:
        signal.signal(signal.SIGINT, old)
