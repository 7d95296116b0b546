"""``srkit-search report``: the Pareto front of a run as JSON and PNG, and the exported genotypes.

The front is taken over every candidate scored in the run (PSNR with inherited supernet weights,
latency on the device); the hand-designed baselines timed in the same run are drawn at their
latency, and every model retrained from scratch in the run (searched or baseline) as a point at its
trained PSNR. ``genotypes/best_under_<budget>ms.json`` is the best architecture within each budget,
in the form ``srkit train --model`` trains.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from srkit import atomic
from srkit.profiler.report import pyplot, save_figure

from .pareto import best_under, front
from .runlog import RunLog
from .space import Arch


def scored(runlog: RunLog) -> list[dict[str, Any]]:
    return [r for r in runlog.of_kind("candidate") if not r["over_budget"] and r["psnr"] is not None]


def export(out: Path, runlog: RunLog, scale: int, budgets_ms: Sequence[float] = ()) -> list[Path]:
    """One genotype per budget (default: one per front point, its latency as the budget)."""
    pts = scored(runlog)
    fr = front(pts)
    budgets = list(budgets_ms) or [p["latency_ms"] for p in fr]
    paths = []
    for b in budgets:
        best = best_under(pts, b)
        if best is None:
            continue
        arch = Arch.from_dict(best["arch"])
        path = out / "genotypes" / f"x{scale}_best_under_{b:.3g}ms.json"
        atomic.write_json(
            path,
            arch.genotype()
            | {
                "_search": {
                    "key": best["key"],
                    "psnr_supernet": best["psnr"],
                    "latency_ms": best["latency_ms"],
                    "budget_ms": b,
                }
            },
        )
        paths.append(path)
    return paths


def write(out: Path, runlog: RunLog, scale: int, lr_hw: Sequence[int], latency_method: str) -> dict[str, Any]:
    pts = scored(runlog)
    fr = front(pts)
    fp = out / "fingerprint.json"
    res = {
        "fingerprint": json.loads(fp.read_text()) if fp.is_file() else None,
        "scale": scale,
        "latency_input_lr": list(lr_hw),
        "latency_method": latency_method,
        "scored": len(pts),
        "over_budget": sum(1 for r in runlog.of_kind("candidate") if r["over_budget"]),
        "front": [
            {"key": p["key"], "arch": p["arch"], "psnr_supernet": p["psnr"], "latency_ms": p["latency_ms"]} for p in fr
        ],
        "baselines": runlog.of_kind("baseline"),
        "retrained": runlog.of_kind("retrained"),
        "genotypes": sorted(str(p.relative_to(out)) for p in (out / "genotypes").glob("*.json")),
    }
    atomic.write_json(out / "front.json", res)
    plot(out / "pareto.png", pts, fr, res["baselines"], res["retrained"], scale, lr_hw)
    return res


def plot(
    path: Path,
    pts: list[dict[str, Any]],
    fr: list[dict[str, Any]],
    baselines: list[dict[str, Any]],
    retrained: list[dict[str, Any]],
    scale: int,
    lr_hw: Sequence[int],
) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if pts:
        ax.scatter(
            [p["latency_ms"] for p in pts],
            [p["psnr"] for p in pts],
            s=12,
            c="0.7",
            label="candidates (supernet weights)",
        )
        ax.plot(
            [p["latency_ms"] for p in fr],
            [p["psnr"] for p in fr],
            "o-",
            c="C0",
            label="Pareto front (supernet weights)",
        )
    for r in retrained:
        base = r["label"].startswith("baseline_")
        ax.scatter(
            [r["latency_ms"]], [r["psnr"]], marker="s" if base else "*", s=70, c="C3" if base else "C2", zorder=3
        )
        ax.annotate(
            r["label"].removeprefix("baseline_"),
            (r["latency_ms"], r["psnr"]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    for b in baselines:
        ax.axvline(b["latency_ms"], c="C3", ls=":", lw=0.8)
        ax.annotate(
            b["model"],
            (b["latency_ms"], 0.98),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=7,
            color="C3",
            va="top",
            ha="right",
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"latency (ms, LR {lr_hw[0]}x{lr_hw[1]}, measured here)")
    ax.set_ylabel(f"validation PSNR (dB, Y, x{scale})")
    ax.set_title(
        "srkit-search: PSNR against measured latency (dotted: hand-designed baselines; squares/stars: retrained)",
        fontsize=8,
    )
    ax.legend(fontsize=7, loc="best")
    save_figure(fig, path)
