"""The one-shot search's independent trainings as jobs: run here, or as NNI trials on its local
service (two at once) and on its remote service over SSH (two sshd workers on 127.0.0.1, one killed
mid-trial). The dispatched search's records equal the one-process search's, each once."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from srkit.search import jobs
from srkit.search.curves import recipe
from srkit.search.runlog import RunLog

from srkit.cli.search import main

from .test_search_study import _folder
from .test_train_ddp import free_port

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").is_file() else None)


def _job(tmp_path: Path, iters: int = 2) -> jobs.Job:
    tc = recipe("espcn", {}, scale=2, data="skimage", val=None, patch=32, batch=2, lr=5e-4, iters=iters, device="cpu")
    return jobs.Job("espcn", str(tmp_path / "espcn"), tc.to_dict(), (), 2)


def test_a_job_runs_from_its_spec_and_a_stale_result_is_not_taken(tmp_path: Path) -> None:
    job = _job(tmp_path)
    jobs.write_specs([job], tmp_path / "jobs")
    assert jobs.load(jobs.spec_file(tmp_path / "jobs", "espcn")) == job
    assert jobs.result(job) is None
    r = jobs.run_job(job)
    assert jobs.result(job) == r and r["val_psnr"] > 0 and r["spec"] == job.spec()
    metrics = json.loads((tmp_path / "espcn" / "metrics.json").read_text())
    assert metrics["iterations"] == 2 and metrics["val_psnr"] == r["val_psnr"]
    assert jobs.result(_job(tmp_path, iters=3)) is None  # another spec: that result is not this job's
    ran: list[str] = []
    done = jobs.run_jobs([job], jobs.Workers(), tmp_path / "jobs", here=lambda j: ran.append(j.label))
    assert done == {"espcn": r} and ran == []  # a finished job is not run again


def test_workers_refuse_placement_without_nni_and_a_bad_machines_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="add --workers nni"):
        jobs.Workers(concurrency=2)
    with pytest.raises(ValueError, match="choose one of here, nni"):
        jobs.Workers(engine="ray")
    bad = tmp_path / "m.yaml"
    bad.write_text("host: a\n")
    with pytest.raises(ValueError, match="expected a YAML list of machines"):
        jobs.machines_file(bad)
    assert jobs.machines_file(_yaml(tmp_path / "ok.yaml", [{"host": "h", "port": 2}])) == ({"host": "h", "port": 2},)


def test_the_search_command_says_the_workers_problem_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["spos", "--quick", "--out", str(tmp_path / "r"), "--concurrency", "2"]) == 2
    assert "add --workers nni" in capsys.readouterr().err
    assert main(["spos", "--quick", "--out", str(tmp_path / "r"), "--workers", "nni", "--machines", "nope.yaml"]) == 2
    assert "--machines nope.yaml: not a readable YAML file" in capsys.readouterr().err


def _yaml(path: Path, obj: object) -> Path:
    path.write_text(yaml.safe_dump(obj))
    return path


ITERS = 6


def _search(root: Path, out: Path) -> list[str]:
    """A tiny search whose retraining (one export, two baselines) is the dispatched work."""
    a, bench = _folder(root / "a", [f"a{i}" for i in range(4)], 0), _folder(root / "bench", ["x", "y"], 2)
    args = ["spos", "--out", str(out), "--data", str(a), "--holdout", "3", "--scale", "2", "--channels", "16"]
    args += ["--min-blocks", "1", "--max-blocks", "1", "--upsamplers", "direct", "--iters", "4", "--patch", "32"]
    args += ["--batch", "2", "--population", "3", "--topk", "2", "--generations", "1", "--latency-input", "16x16"]
    args += ["--baselines", "espcn", "imdn:blocks=2", "--budgets-from-baselines", "--retrain-iters", str(ITERS)]
    return [*args, "--retrain-baselines", "all", "--retrain-top", "1", "--benchmarks", str(bench)]


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path, Path]:
    """The search up to its exports (``base``), and a copy of it retrained here (``here``): each test
    retrains another copy of ``base`` elsewhere."""
    root = tmp_path_factory.mktemp("search")
    base, here = root / "base", root / "here"
    args = _search(root, base)
    assert main([*args, "--until", "evolution"]) == 0
    shutil.copytree(base, here)
    assert main(_at(args, here)) == 0
    return args, base, here


def _at(args: list[str], out: Path, *extra: str) -> list[str]:
    """``args`` resumed in ``out``, with ``extra`` options."""
    i = args.index("--out")
    return [*args[: i + 1], str(out), *args[i + 2 :], "--resume", *extra]


def _same_records(here: Path, there: Path) -> None:
    """The retrained records equal (to float32 rounding; latency is timed again), each once."""
    a, b = RunLog(here / "log.jsonl"), RunLog(there / "log.jsonl")
    keys = [r["key"] for r in b.records]
    assert len(keys) == len(set(keys))
    ra, rb = ({r["label"]: r for r in log.of_kind("retrained")} for log in (a, b))
    assert set(ra) == set(rb) and len(ra) == 3
    for label, r in ra.items():
        s = rb[label]
        assert (s["params"], s["iters"], set(s["scores"])) == (r["params"], r["iters"], {"bench"})
        for k in ("psnr", "ssim", "bicubic_psnr"):  # float32 rounding, through a few Adam steps (another
            # process's thread pool may sum in another order: SSIM moved 1.2e-5 relative once)
            assert s[k] == pytest.approx(r[k], rel=1e-4), (label, k)
        train_log = (there / "retrain" / label / "log.jsonl").read_text().splitlines()
        assert [json.loads(x)["iteration"] for x in train_log] == [ITERS]  # its one validation, once
    costs = {r["label"] for r in b.of_kind("cost") if r["key"].endswith(":trial")}
    assert costs == set(rb)  # each trial's own clock, once


@pytest.mark.slow
@pytest.mark.distributed
def test_the_retraining_as_local_nni_trials_equals_the_one_process_search(
    tmp_path: Path, searched: tuple[list[str], Path, Path]
) -> None:
    args, base, here = searched
    there = shutil.copytree(base, tmp_path / "there")
    nni = ("--workers", "nni", "--concurrency", "2", "--nni-port", str(free_port()))
    assert main(_at(args, there, *nni)) == 0
    _same_records(here, there)
    assert main(_at(args, there, *nni)) == 0
    _same_records(here, there)  # resumed when finished: nothing run or recorded again


@pytest.fixture
def ssh_workers(tmp_path: Path) -> Iterator[list[dict]]:
    """Two SSH servers on 127.0.0.1 (Debian's openssh-server; .ci/run installs it), key login only."""
    if SSHD is None or shutil.which("ssh-keygen") is None:
        pytest.skip("no sshd here (apt-get install openssh-server; .ci/run does)")
    d = tmp_path / "ssh"
    d.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f", d / "key"], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d / "host"], check=True)
    shutil.copy(d / "key.pub", d / "authorized_keys")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    procs, machines = [], []
    for i in range(2):
        port = free_port()
        conf = [f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {d / 'host'}", "PasswordAuthentication no"]
        conf += [f"AuthorizedKeysFile {d / 'authorized_keys'}", f"PidFile {d / f'sshd{i}.pid'}", "StrictModes no"]
        conf += ["UsePAM no", "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp"]
        (d / f"sshd{i}.conf").write_text("\n".join(conf) + "\n")
        procs.append(subprocess.Popen([SSHD, "-D", "-f", d / f"sshd{i}.conf", "-E", d / f"sshd{i}.log"]))
        machines.append({"host": "127.0.0.1", "port": port, "user": getpass.getuser(), "ssh_key_file": str(d / "key")})
    time.sleep(1)
    try:
        yield machines
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)


def _kill_first_trial(there: Path, killed: list[int], stop: threading.Event) -> None:
    """A worker lost mid-trial: the first job to start is killed before it writes its result."""
    while not stop.is_set() and not killed:
        for w in (there / "retrain").glob(f"*/{jobs.WORKER}"):
            if not (w.parent / jobs.RESULT).exists():
                pid = json.loads(w.read_text())["pid"]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                shutil.copy(w, w.with_name("killed.json"))
                return
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.distributed
def test_the_retraining_on_two_ssh_workers_survives_a_killed_trial(
    tmp_path: Path, searched: tuple[list[str], Path, Path], ssh_workers: list[dict]
) -> None:
    args, base, here = searched
    there = shutil.copytree(base, tmp_path / "there")
    machines = _yaml(tmp_path / "machines.yaml", ssh_workers)
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_trial, args=(there, killed, stop))
    killer.start()
    try:
        assert (
            main(_at(args, there, "--workers", "nni", "--machines", str(machines), "--nni-port", str(free_port()))) == 0
        )
    finally:
        stop.set()
        killer.join()
    assert len(killed) == 1  # one trial died, and its job was dispatched again
    victim = next((there / "retrain").glob("*/killed.json")).parent
    assert json.loads((victim / jobs.WORKER).read_text())["pid"] != killed[0]
    managers = "".join(p.read_text() for p in (there / "nni").glob("*/log/nnimanager.log"))
    assert "on worker 1" in managers and "on worker 2" in managers  # both SSH workers took trials
    _same_records(here, there)
