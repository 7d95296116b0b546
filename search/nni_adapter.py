"""The one place srkit talks to NNI (3.0): multi-trial architecture search and hyper-parameter tuning
through NNI's ``Experiment`` API (its HPO side; NNI's NAS API is not used).

An experiment's trials run ``python -m srkit.search.nni_trial SETTINGS``: each takes its parameters
from NNI, trains with :func:`srkit.train.train` (reporting each validation PSNR to NNI through its callback),
measures the trained model's latency on its device, and reports a dict whose ``default`` is the
latency-aware reward (PSNR less ``penalty_db`` per 100 % that the latency exceeds ``target_ms``),
with PSNR and latency beside it. Every finished trial is also appended to the run's ``log.jsonl``.

* ``nas``: the parameters are an architecture of a :class:`~srkit.search.space.BlockSpace`
  (width, depth, and one block per position), plus the fixed training recipe;
* ``hpt``: the architecture is fixed (a zoo name or a genotype file) and the parameters are the
  training recipe: learning rate (uniform in [1e-4, 1e-3] by default), batch size, patch size;
* ``srgan``: SRGAN's hyper-architecture and training space (:mod:`.srgan_space`); trials train
  generator and discriminator adversarially and report the generator's PSNR and latency.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srkit import atomic
from srkit.devices import default_device
from srkit.train import runfolder

from .latency import default_runtime
from .space import Arch, BlockSpace
from .srgan_space import SRGANSpace

TUNERS = ("TPE", "Evolution", "Random", "Anneal")


@dataclass
class NNISettings:
    """What every trial of one experiment shares (the run folder's ``config.yaml``)."""

    mode: str = "nas"  # nas | hpt | srgan
    out: str = "runs/nni"
    space: dict[str, Any] = field(default_factory=lambda: BlockSpace().as_dict())
    model: str | None = None  # hpt: zoo name or genotype file
    scale: int = 4
    data: str = "skimage"
    iters: int = 1000
    patch: int = 96
    batch: int = 16
    lr: float = 5e-4
    lr_range: tuple[float, float] = (1e-4, 1e-3)
    batches: tuple[int, ...] = (8, 16)
    patches: tuple[int, ...] = (64, 96)
    device: str = field(default_factory=default_device)
    latency_input: tuple[int, int] = (270, 480)
    latency_runtime: str = field(default_factory=default_runtime)  # latency.LATENCY_RUNTIMES
    target_ms: float | None = None
    penalty_db: float = 1.0
    vgg_weights: str | None = None  # srgan: adds SRGAN's VGG54 perceptual term
    # where every latency is measured (device.TIMING_KEYS of the machine that started the experiment):
    # trials may train anywhere, a trial elsewhere refuses to time (timing_problem)
    timing_machine: dict[str, Any] | None = None

    def save(self, out: Path) -> Path:
        return runfolder.write_config(out, asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> NNISettings:
        """From the run folder ``path`` (or a file in it: an experiment begun by an older srkit names
        its ``nni_settings.json`` in the trials' command)."""
        p = Path(path)
        d = runfolder.read_config(p if p.is_dir() else p.parent)
        if d is None:
            raise ValueError(f"{p}: no NNI experiment's settings ({runfolder.CONFIG}) in it")
        d["lr_range"], d["batches"], d["patches"] = tuple(d["lr_range"]), tuple(d["batches"]), tuple(d["patches"])
        d["latency_input"] = tuple(d["latency_input"])
        return cls(**d)


def timing_problem(s: NNISettings) -> str:
    """Why latencies may not be measured here for experiment ``s`` ('' when they may): the machine,
    device or thread count differs from the one that started it."""
    from srkit.profiler.device import fingerprint, timing_mismatch

    if not s.timing_machine:
        return ""
    diff = timing_mismatch(s.timing_machine, fingerprint(s.device))
    if not diff:
        return ""
    return (
        f"{s.out}: this experiment's latencies are measured on the machine that started it, not here "
        f"({'; '.join(diff)}): run its trials there (NNI's local service) or resume it there"
    )


def reward(psnr: float, latency_ms: float, target_ms: float | None, penalty_db: float) -> float:
    """PSNR, less ``penalty_db`` for every 100 % by which the latency exceeds the target."""
    if target_ms is None or latency_ms <= target_ms:
        return psnr
    return psnr - penalty_db * (latency_ms / target_ms - 1.0)


def search_space(s: NNISettings) -> dict[str, Any]:
    """NNI's search-space JSON for the experiment."""
    if s.mode == "srgan":
        return srgan_space(s).nni()
    if s.mode == "hpt":
        return {
            "lr": {"_type": "uniform", "_value": list(s.lr_range)},
            "batch": {"_type": "choice", "_value": list(s.batches)},
            "patch": {"_type": "choice", "_value": list(s.patches)},
        }
    space = BlockSpace.from_dict(s.space)
    names = [c.short() for c in space.candidates]
    out: dict[str, Any] = {
        "channels": {"_type": "choice", "_value": list(space.channels)},
        "depth": {"_type": "choice", "_value": list(range(space.min_blocks, space.max_blocks + 1))},
        "upsampler": {"_type": "choice", "_value": list(space.upsamplers)},
    }
    for i in range(space.max_blocks):  # positions past the depth are ignored
        out[f"block{i}"] = {"_type": "choice", "_value": names}
    return out


def srgan_space(s: NNISettings) -> SRGANSpace:
    return SRGANSpace.from_dict(s.space) if s.space.get("kind") == "srgan" else SRGANSpace()


def arch_from_parameters(space: BlockSpace, p: dict[str, Any]) -> Arch:
    by_name = {c.short(): c for c in space.candidates}
    depth = int(p["depth"])
    try:
        blocks = tuple(by_name[p[f"block{i}"]] for i in range(depth))
    except KeyError as e:
        raise ValueError(f"NNI parameters {p} do not name an architecture of the space ({e})") from None
    arch = space.member(int(p["channels"]), blocks, str(p.get("upsampler", "direct")))
    return space.validate(arch)


@dataclass
class ExperimentConfig:
    tuner: str = "TPE"
    trials: int = 10
    concurrency: int = 1
    gpu_indices: tuple[int, ...] = ()
    port: int = 8080
    training_service: str = "local"  # local | remote | ... (NNI's names; non-local ones need their own config)
    seed: int = 0


def _tuner(exp: Any, cfg: ExperimentConfig) -> None:
    if cfg.tuner not in TUNERS:
        raise ValueError(f"tuner {cfg.tuner!r}: choose one of {', '.join(TUNERS)}")
    exp.config.tuner.name = cfg.tuner
    args: dict[str, Any] = {} if cfg.tuner == "Random" else {"optimize_mode": "maximize"}
    if cfg.tuner == "Evolution":
        args["population_size"] = max(4, cfg.trials // 2)
    if cfg.tuner in ("TPE", "Random", "Anneal"):
        args["seed"] = cfg.seed
    exp.config.tuner.class_args = args


def run(s: NNISettings, cfg: ExperimentConfig, *, resume: bool = False, log: Any = print) -> list[dict[str, Any]]:
    """Start (or resume) the experiment, wait for it, and return the finished trials from the log."""
    from nni.experiment import Experiment

    out = Path(s.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    state = out / "nni_experiment.json"
    s.out = str(out)
    if resume:
        if not state.is_file():
            raise ValueError(f"{out}: no NNI experiment to resume (no nni_experiment.json)")
        problem = timing_problem(NNISettings.load(out))
        if problem:
            raise ValueError(problem)
        exp_id = json.loads(state.read_text())["id"]
        log(f"resuming NNI experiment {exp_id}; web UI: http://127.0.0.1:{cfg.port}")
        exp = Experiment(None, id=exp_id)  # NNI 3.0: resume() is a method of the experiment
        exp.resume(port=cfg.port, wait_completion=False)
        _wait(exp)
        return trials(out)
    if state.is_file():
        raise ValueError(f"{out} already holds an NNI experiment; add --resume, or choose another --out")
    from srkit.profiler.device import TIMING_KEYS, fingerprint

    fp = fingerprint(s.device)
    s.timing_machine = {k: fp.get(k) for k in TIMING_KEYS}
    s.save(out)
    exp = Experiment(cfg.training_service)
    exp.config.experiment_name = f"srkit-search {s.mode}"
    # the interpreter running this (its environment has srkit), not whatever `python` is on PATH
    exp.config.trial_command = f"{shlex.quote(sys.executable)} -m srkit.search.nni_trial {shlex.quote(str(out))}"
    exp.config.trial_code_directory = str(out)
    exp.config.search_space = search_space(s)
    _tuner(exp, cfg)
    exp.config.max_trial_number = cfg.trials
    exp.config.trial_concurrency = cfg.concurrency
    exp.config.experiment_working_directory = str(out / "nni")
    if cfg.training_service == "local":
        _local_gpus(exp, cfg.gpu_indices)
    exp.start(cfg.port)
    atomic.write_json(state, {"id": exp.id, "port": cfg.port})
    log(f"NNI experiment {exp.id} ({cfg.tuner}, {cfg.trials} trials); web UI: http://127.0.0.1:{cfg.port}")
    _wait(exp)
    return trials(out)


def dispatch(labels: list[str], jobs_dir: Path, workers: Any, log: Any = print) -> None:
    """Run the jobs ``labels`` (specs in ``jobs_dir``, :mod:`.jobs`) as one NNI experiment, each once
    (a grid over the labels), on ``workers`` (a :class:`.jobs.Workers`): NNI's local service, or its
    remote service on ``workers.machines``. Results come back as files in the jobs' folders, not through
    NNI's metrics; a trial that dies leaves none and the caller dispatches it again."""
    from nni.experiment import Experiment

    remote = bool(workers.machines)
    exp = Experiment("remote" if remote else "local")
    exp.config.experiment_name = f"srkit-search jobs ({len(labels)})"
    python = _worker_python(workers.machines) if remote else sys.executable
    exp.config.trial_command = (
        f"{shlex.quote(python)} -m srkit.search.nni_trial --job {shlex.quote(str(jobs_dir.resolve()))}"
    )
    exp.config.trial_code_directory = str(jobs_dir.resolve())
    exp.config.search_space = {"job": {"_type": "choice", "_value": list(labels)}}
    exp.config.tuner.name = "GridSearch"
    exp.config.max_trial_number = len(labels)
    exp.config.trial_concurrency = len(workers.machines) if remote else workers.concurrency
    exp.config.experiment_working_directory = str(jobs_dir.resolve().parent / "nni")
    if remote:
        exp.config.training_service.machine_list = [_machine(m, python) for m in workers.machines]
    else:
        _local_gpus(exp, workers.gpu_indices)
    exp.start(workers.port)
    where = f"{len(workers.machines)} SSH machine(s)" if remote else f"{exp.config.trial_concurrency} at a time here"
    log(f"NNI experiment {exp.id}: {len(labels)} job(s) as trials on {where}; web UI: http://127.0.0.1:{workers.port}")
    _wait(exp)


def _local_gpus(exp: Any, gpu_indices: tuple[int, ...]) -> None:
    """NNI's local service: one of ``gpu_indices`` per trial, or none (CPU trials)."""
    exp.config.training_service.use_active_gpu = True
    exp.config.trial_gpu_number = 1 if gpu_indices else 0
    if gpu_indices:
        exp.config.training_service.gpu_indices = list(gpu_indices)


def _worker_python(machines: tuple[dict[str, Any], ...]) -> str:
    """The interpreter every remote trial runs: ``python_path``/python, one for all machines (NNI
    takes one trial command); by default this interpreter's folder, as on a shared install."""
    paths = {m.get("python_path") or str(Path(sys.executable).parent) for m in machines}
    if len(paths) > 1:
        raise ValueError(
            f"the machines' python_path differ ({', '.join(sorted(paths))}): one trial command runs on all"
        )
    return str(Path(paths.pop()) / "python")


def _machine(m: dict[str, Any], python: str) -> Any:
    import getpass

    from nni.experiment import RemoteMachineConfig

    known = {"host", "port", "user", "ssh_key_file", "ssh_passphrase", "password", "python_path", "gpu_indices"}
    unknown = sorted(set(m) - known)
    if unknown:
        raise ValueError(f"machine {m.get('host')}: no field {unknown[0]!r} (fields: {', '.join(sorted(known))})")
    rc = RemoteMachineConfig()
    rc.host, rc.port, rc.user = str(m["host"]), int(m.get("port", 22)), str(m.get("user") or getpass.getuser())
    rc.ssh_key_file = str(Path(m.get("ssh_key_file", "~/.ssh/id_rsa")).expanduser())
    for k in ("ssh_passphrase", "password", "gpu_indices"):
        if k in m:
            setattr(rc, k, m[k])
    rc.python_path = str(Path(python).parent)
    rc.use_active_gpu = True
    return rc


def _wait(exp: Any) -> None:
    import time

    try:
        while True:
            status = exp.get_status()
            if status in ("DONE", "STOPPED", "ERROR"):
                break
            time.sleep(2)
    finally:
        exp.stop()


def trials(out: Path) -> list[dict[str, Any]]:
    from .runlog import RunLog

    return RunLog(out / "log.jsonl").of_kind("trial")


def best(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    ok = [r for r in records if r.get("reward") is not None and math.isfinite(r["reward"])]
    return max(ok, key=lambda r: r["reward"]) if ok else None
