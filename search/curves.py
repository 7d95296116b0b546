"""Learning curves: networks trained from scratch with the search's one retraining recipe for a long
budget, their weights kept at chosen iterations and each snapshot scored on every benchmark set.

The curves say at which budget retrained networks rank as their official checkpoints do, and give
the long-budget reference the search's ranking signals are measured against (:mod:`.fidelity`).
Each network trains in ``<out>/train/<label>`` (resumable; killed and restarted it continues from
its last checkpoint) and each scored snapshot is one ``kind: curve`` record in ``log.jsonl``,
exactly once across resumes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from srkit import atomic
from srkit.devices import default_device
from srkit.profiler.device import fingerprint
from srkit.train import runfolder
from srkit.train.runfolder import RunFolderError
from srkit.validation import Rule, first_problem

from .runlog import RunLog, spent

CURVE_FILES = (
    runfolder.CONFIG,
    *runfolder.LEGACY_CONFIGS,
    "log.jsonl",
    "train",
    "fingerprint.json",
    "fidelity.json",
    "curves.md",
    "curves.png",
)


@dataclass(frozen=True)
class CurvesConfig:
    models: tuple[str, ...]  # baseline specs (name or name:key=value,...) or genotype JSON files
    benchmarks: tuple[str, ...]  # folders every snapshot is scored on (protocol PSNR/SSIM)
    data: str = "skimage"  # training folders joined by os.pathsep, or 'skimage'
    scale: int = 4
    iters: int = 16_000
    at: tuple[int, ...] = (1_000, 4_000, 16_000)  # the snapshots scored
    patch: int = 96  # HR patch side (the search's supernet patch)
    batch: int = 16
    lr: float = 1e-3
    checkpoint_every: int = 500  # what a killed run loses at most
    device: str = field(default_factory=default_device)
    labels: tuple[str, ...] = field(default=())  # filled from models

    def __post_init__(self) -> None:
        problem = curves_problem(self)
        if problem:
            raise ValueError(problem)
        object.__setattr__(self, "labels", tuple(model_label(m) for m in self.models))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("labels")
        return d


def curves_problem(cfg: CurvesConfig) -> str:
    """The first value the curves could not mean, as srkit.validation's one line ('' when all hold)."""
    rules: list[Rule] = [
        ("models", bool(cfg.models), "at least one network"),
        ("models", len({model_label(m) for m in cfg.models}) == len(cfg.models), "each network once"),
        ("benchmarks", bool(cfg.benchmarks), "at least one folder to score on"),
        ("iters", cfg.iters >= 1, "an integer >= 1"),
        ("at", bool(cfg.at) and all(1 <= a <= cfg.iters for a in cfg.at), f"iterations from 1 to iters ({cfg.iters})"),
        ("patch", cfg.patch % cfg.scale == 0, f"a multiple of the scale ({cfg.scale})"),
        ("batch", cfg.batch >= 1, "an integer >= 1"),
        ("checkpoint_every", cfg.checkpoint_every >= 1, "an integer >= 1"),
        ("lr", cfg.lr > 0, "a number > 0"),
    ]
    return first_problem(cfg, rules)


def model_label(spec: str) -> str:
    """A network's folder and record name: the baseline spec, or a genotype file's stem."""
    if spec.endswith(".json"):
        return "genotype_" + Path(spec).stem
    return spec.replace(":", "_").replace(",", "_").replace("=", "")


def model_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """(TrainConfig.model, model_args) for a baseline spec or a genotype file."""
    if spec.endswith(".json"):
        return spec, {}
    from .spos import baseline_spec

    return baseline_spec(spec)


def recipe(
    model: str,
    model_args: dict[str, Any],
    *,
    scale: int,
    data: str,
    val: str | None,
    patch: int,
    batch: int,
    lr: float,
    iters: int,
    device: str,
    val_every: int | None = None,
    snapshots: tuple[int, ...] = (),
):
    """The one training recipe every retrained network gets: L1, Adam at ``lr`` on a cosine schedule,
    seed 0, no EMA, HR patches of ``patch``; validated on ``val`` (scores only: the final weights are kept)."""
    from srkit.train.config import DataConfig, OptimConfig, TrainConfig

    return TrainConfig(
        model=model,
        model_args=dict(model_args),
        scale=scale,
        iters=iters,
        val_every=val_every or iters,
        snapshots=sorted(snapshots),
        seed=0,
        device=device,
        ema=None,
        tensorboard=False,
        data=DataConfig(data=data, val_data=val, patch=patch, batch=batch),
        optim=OptimConfig(lr=lr),
    )


def _train_config(cfg: CurvesConfig, spec: str):
    model, kwargs = model_spec(spec)
    return recipe(
        model,
        kwargs,
        scale=cfg.scale,
        data=cfg.data,
        val=cfg.benchmarks[0],
        patch=cfg.patch,
        batch=cfg.batch,
        lr=cfg.lr,
        iters=cfg.iters,
        device=cfg.device,
        val_every=cfg.checkpoint_every,
        snapshots=cfg.at,
    )


def open_run(cfg: CurvesConfig, out: Path) -> RunLog:
    """The folder's configuration checked (or written) and its log. Networks may be added to a folder's
    curves (each trains alone); any other change is refused, naming the file."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / runfolder.CONFIG
    new = json.loads(json.dumps(cfg.as_dict()))
    old = runfolder.read_config(out)
    if old is not None:
        dropped = [m for m in old.get("models", []) if m not in new["models"]]
        if {k: v for k, v in old.items() if k != "models"} != {k: v for k, v in new.items() if k != "models"}:
            raise RunFolderError(f"{out}: this folder holds learning curves of another configuration ({path})")
        if dropped:
            raise RunFolderError(f"{out}: its curves also train {', '.join(dropped)}: name every network it holds")
    runfolder.write_config(out, new)
    if not (out / "fingerprint.json").is_file():
        atomic.write_json(out / "fingerprint.json", fingerprint(cfg.device))
    return RunLog(out / "log.jsonl")


def run(
    cfg: CurvesConfig,
    out: str | Path,
    *,
    official: Mapping[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Score the ``official`` checkpoints (label -> file), then train every network in turn (resuming
    any begun) and score its snapshots; the report is rewritten after each network. The curve records."""
    from srkit.train.trainer import train

    out = Path(out)
    runlog = open_run(cfg, out)
    score_official(runlog, official or {}, cfg.benchmarks, cfg.scale, cfg.device, log)
    write_report(out, cfg, runlog)
    for spec, label in zip(cfg.models, cfg.labels, strict=True):
        if all(runlog.get(f"curve:{label}:{a}") for a in cfg.at):
            continue
        tc = _train_config(cfg, spec)
        folder = out / "train" / label
        log(f"training {label} for {cfg.iters} iterations (snapshots at {list(cfg.at)})")
        with spent(runlog, "curves", label):  # a sitting's piece, also one cut short
            train(tc, folder, resume=True, log=log, progress=False)
        score_snapshots(cfg, runlog, label, folder, log)
        write_report(out, cfg, runlog)
    return [r for r in runlog.records if r.get("kind") == "curve"]


def score_snapshots(cfg: CurvesConfig, runlog: RunLog, label: str, folder: Path, log: Callable[[str], None]) -> None:
    """One ``kind: curve`` record per snapshot not yet scored: PSNR/SSIM on every benchmark."""
    from srkit.models import load as load_model
    from srkit.train.trainer import snapshot_path

    for at in cfg.at:
        key = f"curve:{label}:{at}"
        if runlog.get(key) is not None:
            continue
        rec = runlog.append(
            {
                "kind": "curve",
                "key": key,
                "label": label,
                "at": at,
                **scored(load_model(snapshot_path(folder, at)), cfg.benchmarks, cfg.scale, cfg.device),
            }
        )
        shown = ", ".join(f"{k} {v['psnr']:.3f}" for k, v in rec["scores"].items())
        log(f"{label} @ {at}: {shown}")


def score_folder(net: torch.nn.Module, folder: str, scale: int, device: str) -> dict[str, float]:
    """Protocol PSNR/SSIM (Y, ``scale`` pixels shaved) of ``net`` on a benchmark folder."""
    from srkit.train.data import load_pairs
    from srkit.train.trainer import validate

    psnr, ssim = validate(net, load_pairs(folder, scale, "valid"), scale, device)
    return {"psnr": psnr, "ssim": ssim}


def scored(net: torch.nn.Module, benchmarks: Sequence[str], scale: int, device: str) -> dict[str, Any]:
    """What a curve or official record holds of a network: its scores on every benchmark, its size."""
    scores = {Path(b).name: score_folder(net, b, scale, device) for b in benchmarks}
    return {"params": sum(p.numel() for p in net.parameters()), "scores": scores}


def table(runlog: RunLog) -> dict[str, dict[int, dict[str, dict[str, float]]]]:
    """label -> iteration -> benchmark -> {psnr, ssim}, from the curve records."""
    out: dict[str, dict[int, dict[str, dict[str, float]]]] = {}
    for r in runlog.records:
        if r.get("kind") == "curve":
            out.setdefault(r["label"], {})[r["at"]] = r["scores"]
    return out


def score_official(
    runlog: RunLog,
    official: Mapping[str, str],
    benchmarks: Sequence[str],
    scale: int,
    device: str,
    log: Callable[[str], None],
) -> None:
    """One ``kind: official`` record per published checkpoint (label -> file) not yet scored: its
    protocol PSNR/SSIM on every benchmark folder (the curves' and the search's alike)."""
    from srkit.models import load as load_model

    for label, path in official.items():
        if runlog.get(f"official:{label}") is not None:
            continue
        net = load_model(path, scale=scale)  # a multi-scale file (CARN-M's) at the run's scale
        rec = {"kind": "official", "key": f"official:{label}", "label": label, "file": Path(path).name}
        rec = runlog.append(rec | scored(net, benchmarks, scale, device))
        log(f"official {label}: " + ", ".join(f"{k} {v['psnr']:.3f}" for k, v in rec["scores"].items()))


def mean_psnr(scores: Mapping[str, Mapping[str, float]]) -> float:
    """The mean over the benchmark sets of each set's mean PSNR."""
    return sum(v["psnr"] for v in scores.values()) / len(scores)


def fidelity(cfg: CurvesConfig, runlog: RunLog) -> list[dict[str, Any]]:
    """Each snapshot's ranking against the official checkpoints' and against the longest budget's,
    on the mean PSNR of the benchmarks; pairs with fewer than 3 networks scored by both are left out."""
    from . import fidelity as fid

    curves = table(runlog)
    official = {r["label"]: mean_psnr(r["scores"]) for r in runlog.records if r.get("kind") == "official"}
    at = {a: {lab: mean_psnr(c[a]) for lab, c in curves.items() if a in c} for a in cfg.at}
    last = max(cfg.at)
    out = []
    for a, scores in at.items():
        pairs = [(official, "official checkpoints")] + (
            [(at[last], f"retrained {last} iterations")] if a != last else []
        )
        for ref, name in pairs:
            if len(set(scores) & set(ref)) >= 3:
                out.append(fid.record(f"retrained {a} iterations", name, scores, ref))
    return out


def write_report(out: Path, cfg: CurvesConfig, runlog: RunLog) -> None:
    """fidelity.json, curves.md (the table) and curves.png (mean PSNR against iterations per network)."""
    from . import fidelity as fid

    agreements = fidelity(cfg, runlog)
    atomic.write_json(out / "fidelity.json", agreements)
    curves = table(runlog)
    official = {r["label"]: r for r in runlog.records if r.get("kind") == "official"}
    sets = [Path(b).name for b in cfg.benchmarks]
    lines = [
        f"# Learning curves, x{cfg.scale}: one recipe (L1, Adam {cfg.lr:g} cosine over {cfg.iters} iterations, "
        f"batch {cfg.batch}, HR patch {cfg.patch}), PSNR (Y, {cfg.scale} px shaved) on {', '.join(sets)}",
        "",
        "| network | iterations | " + " | ".join(sets) + " | mean | official mean |",
        "|---|---|" + "---|" * len(sets) + "---|---|",
    ]
    for label, pts in curves.items():
        ref = f"{mean_psnr(official[label]['scores']):.3f}" if label in official else "-"
        for a in sorted(pts):
            cells = " | ".join(f"{pts[a][s]['psnr']:.3f}" if s in pts[a] else "-" for s in sets)
            lines.append(f"| {label} | {a} | {cells} | {mean_psnr(pts[a]):.3f} | {ref} |")
    lines += ["", "## Rank agreement (Kendall tau, Spearman rho, bootstrap 95% intervals)", "", *fid.lines(agreements)]
    atomic.write_bytes(out / "curves.md", ("\n".join(lines) + "\n").encode())
    _plot(out / "curves.png", curves, official)


def _plot(path: Path, curves: Mapping[str, Mapping[int, Any]], official: Mapping[str, Any]) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pts in curves.items():
        its = sorted(pts)
        (line,) = ax.plot(its, [mean_psnr(pts[a]) for a in its], marker="o", label=label)
        if label in official:
            ax.axhline(mean_psnr(official[label]["scores"]), color=line.get_color(), ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("training iterations")
    ax.set_ylabel("mean PSNR of the benchmark sets (dB)")
    ax.set_title("retrained with one recipe (dotted: official checkpoint)")
    if curves:
        ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic.write_bytes(path, buf.getvalue())
