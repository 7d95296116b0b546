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

from . import fidelity, verdict
from .pareto import best_under, front, shortlist_under
from .runlog import RunLog
from .space import Arch


def scored(runlog: RunLog) -> list[dict[str, Any]]:
    return [r for r in runlog.of_kind("candidate") if not r["over_budget"] and r["psnr"] is not None]


def rechecked(runlog: RunLog) -> dict[str, float]:
    """{candidate or ``baseline:spec`` key: its median} over the rounds the run timed again before
    exporting (``kind: recheck``; empty without ``--budget-rounds``)."""
    return {r["of"]: r["median_ms"] for r in runlog.of_kind("recheck")}


def exportable(runlog: RunLog) -> list[dict[str, Any]]:
    """The points a budget picks from: every scored candidate, or, where the run timed its front again
    in interleaved rounds, that front at those rounds' medians."""
    pts, again = scored(runlog), rechecked(runlog)
    if not again:
        return pts
    return [p | {"latency_ms": again[p["key"]]} for p in pts if p["key"] in again]


def ranked(runlog: RunLog) -> dict[str, dict[str, Any]]:
    """{candidate key: its ``kind: ranked`` record}: the shortlisted architectures trained stand-alone."""
    return {r["of"]: r for r in runlog.of_kind("ranked")}


def pick(
    pts: Sequence[dict[str, Any]],
    budget_ms: float,
    trained: dict[str, dict[str, Any]],
    k: int,
    tolerance: float = 0.0,
) -> Any:
    """The export under ``budget_ms``: the best point by supernet PSNR, or with ``k`` the best of its
    shortlist by their stand-alone training's held-out PSNR (``trained``; each must be there)."""
    if not k:
        return best_under(pts, budget_ms)
    top = shortlist_under(pts, budget_ms, k, tolerance)
    missing = [p["key"] for p in top if p["key"] not in trained]
    if missing:
        raise ValueError(
            f"{', '.join(missing)}: shortlisted under {budget_ms:.3g} ms but not yet trained; "
            "resume the run to rank them"
        )
    return max(top, key=lambda p: (trained[p["key"]]["psnr"], p["psnr"]), default=None)


def export(
    out: Path,
    runlog: RunLog,
    scale: int,
    budgets_ms: Sequence[float] = (),
    rank_top: int = 0,
    rank_tolerance: float = 0.0,
) -> list[Path]:
    """One genotype per budget (default: one per front point, its latency as the budget); with
    ``rank_top`` the best of that many shortlisted architectures after their stand-alone training."""
    pts, trained = exportable(runlog), ranked(runlog)
    budgets = list(budgets_ms) or [p["latency_ms"] for p in front(pts)]
    paths = []
    for b in budgets:
        best = pick(pts, b, trained, rank_top, rank_tolerance)
        if best is None:
            continue
        path = out / "genotypes" / f"x{scale}_best_under_{b:.3g}ms.json"
        found = {"key": best["key"], "psnr_supernet": best["psnr"], "latency_ms": best["latency_ms"], "budget_ms": b}
        if rank_top:
            found["psnr_ranked"] = trained[best["key"]]["psnr"]
        atomic.write_json(path, Arch.from_dict(best["arch"]).genotype() | {"_search": found})
        paths.append(path)
    return paths


RUNTIME_WORDS = {
    "torch": "PyTorch with srkit's ops (NCHW)",
    "channels_last": "PyTorch with srkit's ops (channels_last)",
    "ort": "ONNX Runtime on srkit's export",
    "auto": "the runtime srkit ships each network on (the fastest of PyTorch NCHW, channels_last and ONNX Runtime)",
}


def write(
    out: Path, runlog: RunLog, scale: int, lr_hw: Sequence[int], latency_method: str, runtime: str = "torch"
) -> dict[str, Any]:
    """front.json, pareto.png and (once models are retrained) report.md from the run's log;
    ``runtime``: what the latencies were timed on (the run's ``latency_runtime``)."""
    pts = scored(runlog)
    fr = front(pts)
    fp = out / "fingerprint.json"
    res = {
        "fingerprint": json.loads(fp.read_text()) if fp.is_file() else None,
        "scale": scale,
        "latency_input_lr": list(lr_hw),
        "latency_method": latency_method,
        "latency_runtime": runtime,
        "scored": len(pts),
        "over_budget": sum(1 for r in runlog.of_kind("candidate") if r["over_budget"]),
        "front": [
            {"key": p["key"], "arch": p["arch"], "psnr_supernet": p["psnr"], "latency_ms": p["latency_ms"]} for p in fr
        ],
        "baselines": runlog.of_kind("baseline"),
        "retrained": runlog.of_kind("retrained"),
        "timing": runlog.of_kind("timing"),
        "ranked": runlog.of_kind("ranked"),
        "genotypes": sorted(str(p.relative_to(out)) for p in (out / "genotypes").glob("*.json")),
        "architectures": {
            p.stem: json.loads(p.read_text())["_search"]["key"] for p in (out / "genotypes").glob("*.json")
        },
        "benchmark": benchmark(runlog),
        "comparison": None,
        "cost": verdict.cost(runlog),
        "fidelity": fidelity.from_log(runlog, out),
    }
    final = verdict.points(runlog)
    if final:
        res["comparison"] = verdict.compare(final) | {"points": final}
    atomic.write_json(out / "front.json", res)
    if res["fidelity"]:
        atomic.write_json(out / "fidelity.json", res["fidelity"])
    plot(out / "pareto.png", pts, fr, res["baselines"], final, scale, lr_hw, res["benchmark"])
    if final:
        atomic.write_bytes(out / "report.md", markdown(res).encode())
    return res


def benchmark(runlog: RunLog) -> str:
    """What the retrained PSNRs are (:func:`.verdict.points`): one benchmark set's, the mean of
    several ('mean of Set5, Set14, B100'), else 'validation'."""
    for r in runlog.of_kind("retrained"):
        sets = list(r.get("scores") or {})
        if len(sets) > 1:
            return "mean of " + ", ".join(sets)
        return sets[0] if sets else "validation"
    return "validation"


def markdown(res: dict[str, Any]) -> str:
    """The retrained comparison as a Markdown table, the verdict and the cost."""
    cmp = res["comparison"]
    h, w = res["latency_input_lr"]
    rows = [
        f"Retrained with one recipe, scored on {res.get('benchmark', 'validation')} under the protocol; latency: "
        f"LR {h}x{w}, batch 1, on {RUNTIME_WORDS.get(res.get('latency_runtime', 'torch'), res.get('latency_runtime'))}, "
        "median of the final interleaved rounds [min, max]."
        + (
            " Group official: the published checkpoints as released (trained far longer than this run's "
            "recipe), for where each baseline's best version stands; the verdict compares retrained networks only."
            if any(p["group"] == "official" for p in cmp["points"])
            else ""
        ),
        "",
        "| model | group | params | PSNR (dB) | SSIM | latency ms [min, max] | dominates |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for p in sorted(cmp["points"], key=lambda p: p["latency_ms"]):
        beaten = ", ".join(b.removeprefix("baseline_") for b in cmp["dominated_by_found"].get(p["label"], []))
        arch = res.get("architectures", {}).get(p["label"])
        rows.append(
            f"| {p['label'].removeprefix('baseline_')}{f' `{arch}`' if arch else ''} | {p['group']} | {p['params'] or 0:,} | {p['psnr']:.3f} | "
            f"{p['ssim'] or 0:.4f} | {p['latency_ms']:.1f} [{p['latency_min_ms']:.1f}, {p['latency_max_ms']:.1f}] "
            f"| {beaten} |"
        )
    rows += [
        "",
        f"- a found network dominates two or more baselines: **{cmp['one_found_dominates_two']}**",
        f"- the found networks dominate the baselines' front ({', '.join(cmp['baseline_front'])}): "
        f"**{cmp['front_dominates_baseline_front']}**"
        + (
            f" (not dominated: {', '.join(cmp['baseline_front_not_dominated'])})"
            if cmp["baseline_front_not_dominated"]
            else ""
        ),
        "",
        "| phase | wall hours | CPU-hours |",
        "|---|---:|---:|",
    ]
    rows += [f"| {k} | {v['wall_hours']:.2f} | {v['cpu_hours']:.2f} |" for k, v in res["cost"].items()]
    return "\n".join(rows + _ranked_rows(res) + _fidelity_rows(res)) + "\n"


def _fidelity_rows(res: dict[str, Any]) -> list[str]:
    """How far the ranking signals agree with long training over the fidelity sample (fidelity.json)."""
    if not res.get("fidelity"):
        return []
    head = "Ranking signals against long training over the fidelity sample (Kendall tau, Spearman rho, bootstrap 95% intervals):"
    return ["", head, "", *fidelity.lines(res["fidelity"])]


def _ranked_rows(res: dict[str, Any]) -> list[str]:
    """The shortlists' stand-alone training (``--rank-top``): supernet PSNR against held-out PSNR."""
    if not res.get("ranked"):
        return []
    rows = [
        "",
        "Shortlisted under the budgets and trained stand-alone (training images; PSNR on the held-out ones):",
        "",
        "| architecture | PSNR with supernet weights | PSNR trained stand-alone | exported |",
        "|---|---:|---:|---|",
    ]
    chosen = set(res.get("architectures", {}).values())
    for r in sorted(res["ranked"], key=lambda r: -r["psnr"]):
        rows.append(
            f"| `{r['of']}` | {r['psnr_supernet']:.3f} | {r['psnr']:.3f} | {'yes' if r['of'] in chosen else ''} |"
        )
    return rows


def plot(
    path: Path,
    pts: list[dict[str, Any]],
    fr: list[dict[str, Any]],
    baselines: list[dict[str, Any]],
    retrained: list[dict[str, Any]],
    scale: int,
    lr_hw: Sequence[int],
    benchmark: str = "validation",
) -> None:
    """Left: the search (candidates with supernet weights, on held-out training images); right, when
    the run retrained any: the retrained networks on the benchmark, each latency's [min, max] a bar.
    Two panels because the two PSNRs are on different images."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2 if retrained else 1, figsize=(12 if retrained else 7, 4.5), squeeze=False)
    _plot_search(axes[0][0], pts, fr, baselines, scale)
    if retrained:
        _plot_retrained(axes[0][1], retrained, scale, benchmark)
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_xlabel(f"latency (ms, LR {lr_hw[0]}x{lr_hw[1]}, measured here)")
    save_figure(fig, path)


def _plot_search(
    ax: Any, pts: list[dict[str, Any]], fr: list[dict[str, Any]], baselines: list[dict[str, Any]], scale: int
) -> None:
    if pts:
        ax.scatter([p["latency_ms"] for p in pts], [p["psnr"] for p in pts], s=12, c="0.7", label="candidates")
        ax.plot([p["latency_ms"] for p in fr], [p["psnr"] for p in fr], "o-", c="C0", label="Pareto front")
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
    ax.set_ylabel(f"PSNR with supernet weights (dB, Y, x{scale}, held-out images)")
    ax.set_title("the search (dotted: hand-designed baselines' latency)", fontsize=8)
    if ax.get_legend_handles_labels()[0]:  # nothing scored yet (a run stopped after its supernet)
        ax.legend(fontsize=7, loc="best")


def _plot_retrained(ax: Any, retrained: list[dict[str, Any]], scale: int, benchmark: str) -> None:
    names = {"found": "found by the search", "baseline": "hand-designed", "official": "official checkpoints"}
    for group, fmt, colour in (("found", "*", "C2"), ("baseline", "s", "C3"), ("official", "D", "C7")):
        mine = sorted((r for r in retrained if r["group"] == group), key=lambda r: r["latency_ms"])
        if not mine:
            continue
        err = [
            [r["latency_ms"] - r["latency_min_ms"] for r in mine],
            [r["latency_max_ms"] - r["latency_ms"] for r in mine],
        ]
        ax.errorbar(
            [r["latency_ms"] for r in mine],
            [r["psnr"] for r in mine],
            xerr=err,
            fmt=fmt,
            ms=9,
            c=colour,
            capsize=2,
            label=names[group],
        )
        for r in mine:
            ax.annotate(
                r["label"].removeprefix("baseline_").removeprefix(f"x{scale}_").replace("official_", "official "),
                (r["latency_ms"], r["psnr"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    ax.set_ylabel(f"{benchmark} PSNR after retraining (dB, Y, x{scale})")
    published = any(r["group"] == "official" for r in retrained)
    ax.set_title(
        "retrained from scratch with one recipe" + ("; official checkpoints as published" * published), fontsize=8
    )
    ax.legend(fontsize=7, loc="best")
