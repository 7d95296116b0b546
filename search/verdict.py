"""Whether the search's retrained networks beat the hand-designed ones at equal measured latency.

A found network *dominates* a baseline when, both retrained with the one recipe, it scores a higher
PSNR (the mean over the run's benchmark sets: Set5, Set14 and B100 in the long-budget runs) at no
more median latency (the final interleaved timing where the run
made one). The goal of a search run: one found network dominating at least two baselines, and every
point of the baselines' own Pareto front dominated by some found network.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .pareto import front
from .runlog import RunLog


def points(runlog: RunLog) -> list[dict[str, Any]]:
    """Each retrained model as a point: label, group (found | baseline), PSNR/SSIM, latency and spread;
    then each published checkpoint the run scored and timed (group official), which the verdict leaves out."""
    out = []
    for r in runlog.of_kind("retrained"):
        t = runlog.get(f"timing:{r['label']}")
        by_set = {name: float(v["psnr"]) for name, v in (r.get("scores") or {}).items()}
        lat = t["median_ms"] if t else r["latency_ms"]
        out.append(
            {
                "label": r["label"],
                "group": "baseline" if r["label"].startswith("baseline_") else "found",
                "psnr": sum(by_set.values()) / len(by_set) if by_set else r["psnr"],
                "psnr_by_set": by_set,
                "ssim": r.get("ssim"),
                "params": r.get("params"),
                "latency_ms": lat,
                "latency_min_ms": t["min_ms"] if t else lat,
                "latency_max_ms": t["max_ms"] if t else lat,
                "timed_rounds": len(t["rounds_ms"]) if t else 0,
            }
        )
    return out + official_points(runlog)


def official_points(runlog: RunLog) -> list[dict[str, Any]]:
    """The published checkpoints as points (``official_<label>``), where the final rounds timed them."""
    out = []
    for r in runlog.of_kind("official"):
        label = f"official_{r['label']}"
        t = runlog.get(f"timing:{label}")
        if t is None:
            continue
        by_set = {name: float(v["psnr"]) for name, v in r["scores"].items()}
        first = next(iter(r["scores"].values()))
        out.append(
            {
                "label": label,
                "group": "official",
                "psnr": sum(by_set.values()) / len(by_set),
                "psnr_by_set": by_set,
                "ssim": first.get("ssim"),
                "params": r.get("params"),
                "latency_ms": t["median_ms"],
                "latency_min_ms": t["min_ms"],
                "latency_max_ms": t["max_ms"],
                "timed_rounds": len(t["rounds_ms"]),
            }
        )
    return out


def beats(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Higher PSNR at no more median latency."""
    return a["psnr"] > b["psnr"] and a["latency_ms"] <= b["latency_ms"]


def compare(pts: list[dict[str, Any]]) -> dict[str, Any]:
    found = [p for p in pts if p["group"] == "found"]
    base = [p for p in pts if p["group"] == "baseline"]
    base_front = front(base)
    dominated = {f["label"]: [b["label"] for b in base if beats(f, b)] for f in found}
    uncovered = [b["label"] for b in base_front if not any(beats(f, b) for f in found)]
    best = max(dominated.values(), key=len, default=[])
    return {
        "dominated_by_found": dominated,
        "baseline_front": [b["label"] for b in base_front],
        "baseline_front_not_dominated": uncovered,
        "one_found_dominates_two": len(best) >= 2,
        "front_dominates_baseline_front": bool(found) and bool(base_front) and not uncovered,
        "goal_met": len(best) >= 2 and bool(found) and bool(base_front) and not uncovered,
    }


def cost(runlog: RunLog) -> dict[str, dict[str, float]]:
    """Wall hours and CPU-hours per phase, summed over every piece of the run: a piece's measured CPU
    time where it has one, else (older records, NNI trials) its wall time x threads."""
    wall: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    for r in runlog.of_kind("cost"):
        wall[r["phase"]] += r["seconds"] / 3600
        cpu[r["phase"]] += r.get("cpu_seconds", r["seconds"] * r["threads"]) / 3600
    phases = {p: {"wall_hours": wall[p], "cpu_hours": cpu[p]} for p in sorted(wall)}
    phases["total"] = {"wall_hours": sum(wall.values()), "cpu_hours": sum(cpu.values())}
    return phases
