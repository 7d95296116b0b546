"""One-shot search end to end: train the supernet, evolve, report the Pareto front, export, retrain.

Everything lands in the run folder: ``space.json`` and ``config.json``, ``supernet.pt`` (atomic,
resumable), ``log.jsonl`` (every scored candidate, every baseline and retrained model, appended as
it happens), ``front.json``, ``pareto.png`` and ``genotypes/*.json``. Running the same command on
the same folder resumes: the supernet from its checkpoint, the search from its log, without
scoring any candidate twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from srkit import atomic
from srkit.models import create_model
from srkit.profiler.device import fingerprint
from srkit.train.data import load_pairs
from srkit.train.trainer import validate

from . import report
from .evolution import Evaluator, EvolutionConfig, evolve
from .imdb_space import make_supernet
from .latency import FromTable, Measured, time_model
from .runlog import RunLog
from .space import BlockSpace
from .supernet import SupernetConfig
from .supernet import train as train_supernet

BASELINES: dict[str, dict[str, Any]] = {"imdn": {}, "wdsr_b": {}, "rfdn": {}, "rlfn": {}, "edsr_baseline": {}}


@dataclass
class SearchConfig:
    space: BlockSpace = field(default_factory=BlockSpace)
    channels: int | None = 32  # the supernet's width; None: one supernet over all the space's widths
    shared: bool = False  # an IMDB multi-path space: one set of weights per position shared by all paths
    data: str = "skimage"
    supernet: SupernetConfig = field(default_factory=SupernetConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    latency_input: tuple[int, int] = (270, 480)  # LR size the latency is measured at (1080p output at x4)
    latency_table: str | None = None  # a `srkit-bench lut` table to predict from, instead of measuring
    latency_runtime: str = "torch"  # what candidates are timed on: torch (srkit's ops) or ort (ONNX Runtime)
    budgets_ms: tuple[float, ...] = ()  # export the best architecture under each (default: every front point)
    retrain_iters: int = 0  # retrain the exported architectures (and the baselines) from scratch for this long
    retrain_baselines: tuple[str, ...] = ()
    retrain_top: int | None = None  # retrain only this many exports, highest supernet PSNR first (None: all)
    device: str = "cpu"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["space"] = self.space.as_dict()
        return d


def quick(device: str = "cpu") -> SearchConfig:
    """The end-to-end demo on the embedded photographs: minutes on a 2-core CPU."""
    space = BlockSpace(scale=4, channels=(16, 24), min_blocks=1, max_blocks=4)
    return SearchConfig(
        space=space,
        channels=None,
        device=device,
        supernet=SupernetConfig(iters=1200, patch=64, batch=8, lr=2e-3, checkpoint_every=200),
        evolution=EvolutionConfig(population=10, topk=5, iterations=3, crossover=4, mutation_children=4),
        latency_input=(64, 64),
        retrain_iters=800,
        retrain_baselines=("wdsr_b",),
        retrain_top=1,
    )


def same_config(before: dict[str, Any], cfg: SearchConfig) -> bool:
    """Whether a run folder's recorded configuration is ``cfg``; a field added to srkit after the
    run was recorded counts as its default (so older run folders still resume)."""
    now, default = json.loads(json.dumps(cfg.as_dict())), json.loads(json.dumps(SearchConfig().as_dict()))
    return set(before) <= set(now) and all(before.get(k, default.get(k)) == v for k, v in now.items())


def run(cfg: SearchConfig, out: str | Path, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    space, scale = cfg.space, cfg.space.scale
    cfg_path = out / "config.json"
    if cfg_path.is_file():
        if not same_config(json.loads(cfg_path.read_text()), cfg):
            raise ValueError(
                f"{out}: this run folder holds a search with another configuration ({cfg_path}); "
                "resume it with the same options or choose another --out"
            )
    atomic.write_json(cfg_path, cfg.as_dict())
    atomic.write_json(out / "fingerprint.json", fingerprint(cfg.device))  # where the latencies were measured
    space.save(out / "space.json")
    runlog = RunLog(out / "log.jsonl")
    log(
        f"space: {space.size():,} architectures ({len(space.candidates)} blocks, depth {space.min_blocks}-{space.max_blocks}, "
        f"widths {list(space.channels)})"
    )

    train_pairs = load_pairs(cfg.data, scale, "train")
    val_pairs = (
        load_pairs(cfg.data, scale, "valid") if cfg.data == "skimage" else train_pairs[: max(1, len(train_pairs) // 10)]
    )
    torch.manual_seed(cfg.supernet.seed)
    net = make_supernet(space, cfg.channels, cfg.shared)
    losses = train_supernet(net, train_pairs, cfg.supernet, out, device=cfg.device, log=log)
    if losses:
        log(
            f"supernet: {len(losses)} steps, L1 {sum(losses[:20]) / len(losses[:20]):.4f} -> {sum(losses[-20:]) / len(losses[-20:]):.4f}"
        )

    rt = cfg.latency_runtime
    latency = (
        FromTable(cfg.latency_table, scale, cfg.latency_input, cfg.device, runtime=rt)
        if cfg.latency_table
        else Measured(scale, cfg.latency_input, cfg.device, runtime=rt)
    )
    evaluator = Evaluator(
        runlog, lambda a: validate(net.subnet(a), val_pairs, scale, cfg.device)[0], latency, cfg.evolution.budget_ms
    )
    scored = evolve(space, cfg.channels, evaluator, cfg.evolution, progress=log)
    log(f"evolution: {len(scored)} architectures scored ({latency.method} latency)")

    time_baselines(cfg, runlog)
    exported = report.export(out, runlog, scale, cfg.budgets_ms)
    if cfg.retrain_iters:
        retrain(cfg, out, runlog, exported, log)
    return report.write(out, runlog, scale, cfg.latency_input, latency.method)


def time_baselines(cfg: SearchConfig, runlog: RunLog) -> None:
    """The hand-designed baselines timed in the same run, on the same input and runtime (once each)."""
    for name, kw in BASELINES.items():
        key = f"baseline:{name}"
        if runlog.get(key) is None:
            m = create_model(name, scale=cfg.space.scale, **kw)
            ms = time_model(m, cfg.latency_input, cfg.device, runtime=cfg.latency_runtime)
            params = sum(p.numel() for p in m.parameters())
            runlog.append({"kind": "baseline", "key": key, "model": name, "params": params, "latency_ms": ms})


def retrain(cfg: SearchConfig, out: Path, runlog: RunLog, exported: list[Path], log: Callable[[str], None]) -> None:
    """Train the exported architectures, and the chosen baselines, from scratch with the same recipe
    and iterations; their final validation PSNR joins the log (``kind: retrained``)."""
    from srkit.train import train as train_model
    from srkit.train.config import DataConfig, OptimConfig, TrainConfig
    from srkit.train.trainer import build_model

    ranked = sorted(exported, key=lambda p: -json.loads(p.read_text())["_search"]["psnr_supernet"])
    chosen = ranked if cfg.retrain_top is None else ranked[: cfg.retrain_top]
    jobs = [(p.stem, str(p)) for p in chosen] + [(f"baseline_{b}", b) for b in cfg.retrain_baselines]
    for label, model in jobs:
        key = f"retrained:{label}:{cfg.retrain_iters}"
        if runlog.get(key) is not None:
            continue
        tc = TrainConfig(
            model=model,
            scale=cfg.space.scale,
            iters=cfg.retrain_iters,
            val_every=cfg.retrain_iters,
            seed=0,
            device=cfg.device,
            ema=None,
            data=DataConfig(data=cfg.data, patch=cfg.supernet.patch, batch=cfg.supernet.batch),
            optim=OptimConfig(lr=cfg.supernet.lr),
        )
        log(f"retraining {label} from scratch for {cfg.retrain_iters} iterations")
        m = train_model(tc, out / "retrain" / label, resume=True, log=lambda s: None, progress=False)
        lat = time_model(build_model(tc), cfg.latency_input, cfg.device, runtime=cfg.latency_runtime)
        runlog.append(
            {
                "kind": "retrained",
                "key": key,
                "label": label,
                "model": model,
                "iters": cfg.retrain_iters,
                "psnr": m["val_psnr"],
                "bicubic_psnr": m["bicubic_psnr"],
                "latency_ms": lat,
            }
        )
