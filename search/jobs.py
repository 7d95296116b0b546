"""A search's independent trainings as jobs: each a JSON spec, run here or as NNI trials elsewhere.

A job trains one network from scratch into its own folder (resuming from its last checkpoint) and
scores it on the benchmarks it names, then writes ``job_result.json`` there (atomically). It never
times anything: latency is measured by the search's own process, on the machine the search names
(``srkit.profiler.device.TIMING_KEYS``), after the results come back. The run folder must be on a
filesystem every worker sees at the same path, as for ``torchrun``'s ``--out``.

``Workers`` says where the jobs run: ``here`` (one after another, in this process) or ``nni``
(:func:`.nni_adapter.dispatch`: NNI's local service with ``concurrency`` and ``gpu_indices``, or its
remote service over SSH with ``machines``). A job whose trial died (a worker lost mid-trial) has no
result after its experiment ends and is dispatched again, up to ``retries`` times; it resumes from
its folder's checkpoint, so its training log keeps every record once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from srkit import atomic

RESULT = "job_result.json"
WORKER = "job_worker.json"  # who is running the job now (pid, host): what a test kills mid-trial
ENGINES = ("here", "nni")


@dataclass(frozen=True)
class Job:
    """One training of a search: ``label`` is unique in the search, ``folder`` its run folder."""

    label: str
    folder: str
    train: dict[str, Any]  # a TrainConfig as a dict (TrainConfig.to_dict)
    benchmarks: tuple[str, ...] = ()  # scored after training (protocol PSNR/SSIM), besides the validation
    scale: int = 4

    def spec(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass
class Workers:
    """Where a search's jobs run (not recorded with the search: it does not change its results)."""

    engine: str = "here"  # here | nni
    concurrency: int = 1  # nni, local service: trials at once
    gpu_indices: tuple[int, ...] = ()  # nni, local service: one of these GPUs per trial
    machines: tuple[dict[str, Any], ...] = ()  # nni, remote service: NNI's RemoteMachineConfig fields each
    port: int = 8080  # nni: the experiment's web UI
    retries: int = 2  # nni: rounds that dispatch again the jobs left without a result

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"workers {self.engine!r}: choose one of {', '.join(ENGINES)}")
        if self.engine == "here" and (self.machines or self.gpu_indices or self.concurrency != 1):
            raise ValueError("--concurrency, --gpus and --machines place NNI trials: add --workers nni")


def spec_file(jobs_dir: Path, label: str) -> Path:
    return jobs_dir / f"{label}.json"


def write_specs(jobs: Sequence[Job], jobs_dir: Path) -> None:
    for j in jobs:
        atomic.write_json(spec_file(jobs_dir, j.label), j.spec())


def load(path: str | Path) -> Job:
    d = json.loads(Path(path).read_text())
    return Job(**(d | {"benchmarks": tuple(d["benchmarks"])}))


def result(job: Job) -> dict[str, Any] | None:
    """The job's result, if it finished with this very spec (a result of another spec is stale)."""
    p = Path(job.folder) / RESULT
    if not p.is_file():
        return None
    r = json.loads(p.read_text())
    return r if r.get("spec") == job.spec() else None


def run_job(job: Job, progress: bool = False) -> dict[str, Any]:
    """Train (resuming), score, write the result: what a worker does."""
    from srkit.models.checkpoint import load as load_model
    from srkit.train import train
    from srkit.train.config import load_config

    from .curves import score_folder

    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic.write_json(folder / WORKER, {"pid": os.getpid(), "host": socket.gethostname()})
    t0 = time.monotonic()
    cfg = load_config(base=job.train)
    m = train(cfg, folder, resume=True, log=lambda s: None, progress=progress)
    scores: dict[str, Any] = {}
    if job.benchmarks:
        net = load_model(folder / "model.safetensors")
        scores = {Path(b).name: score_folder(net, b, job.scale, cfg.device) for b in job.benchmarks}
    keep = ("val_psnr", "val_ssim", "bicubic_psnr", "seconds")
    r = {k: m[k] for k in keep} | {"scores": scores, "job_seconds": time.monotonic() - t0}
    r |= {"threads": torch.get_num_threads(), "host": socket.gethostname(), "spec": job.spec()}
    atomic.write_json(folder / RESULT, r)
    return r


def run_jobs(
    jobs: Sequence[Job],
    workers: Workers,
    jobs_dir: Path,
    log: Callable[[str], None] = print,
    here: Callable[[Job], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every job's result, running those without one (``here``: the caller's own wrapper around
    :func:`run_job`, e.g. to account its time). A job still without one after the retries is an error."""
    todo = [j for j in jobs if result(j) is None]
    if todo and workers.engine == "here":
        for j in todo:
            (here or run_job)(j)
    elif todo:
        from .nni_adapter import dispatch

        write_specs(todo, jobs_dir)
        for attempt in range(workers.retries + 1):
            if attempt:
                log(f"{len(todo)} job(s) left without a result (a worker lost?): dispatching them again")
            dispatch([j.label for j in todo], jobs_dir, workers, log)
            todo = [j for j in todo if result(j) is None]
            if not todo:
                break
    results = {j.label: result(j) for j in jobs}
    missing = [label for label, r in results.items() if r is None]
    if missing:
        raise RuntimeError(
            f"no result for {', '.join(missing)} after {workers.retries + 1} rounds of trials: "
            f"see the trials' stderr under {jobs_dir.parent / 'nni'}"
        )
    return results  # type: ignore[return-value]


def machines_file(path: str | Path) -> tuple[dict[str, Any], ...]:
    """NNI remote machines from a YAML list (host, port, user, ssh_key_file, python_path, ...)."""
    import yaml

    p = Path(path)
    try:
        loaded = yaml.safe_load(p.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ValueError(f"--machines {p}: not a readable YAML file ({e.__class__.__name__})") from None
    if not isinstance(loaded, list) or not loaded or not all(isinstance(m, dict) and "host" in m for m in loaded):
        raise ValueError(f"--machines {p}: expected a YAML list of machines, each with host (and user, port ...)")
    return tuple(loaded)
