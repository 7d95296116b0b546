"""Pareto fronts of (quality, latency): higher PSNR and lower latency are better; the best points
under a latency budget, and the shortlist of them a search trains before it picks one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T", bound=dict[str, Any])


def dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """``a`` is at least as good as ``b`` in PSNR and latency, and better in one."""
    return (
        a["psnr"] >= b["psnr"]
        and a["latency_ms"] <= b["latency_ms"]
        and (a["psnr"] > b["psnr"] or a["latency_ms"] < b["latency_ms"])
    )


def front(points: Sequence[T]) -> list[T]:
    """The non-dominated points, by increasing latency (ties in both objectives all stay)."""
    return sorted(
        (p for p in points if not any(dominates(q, p) for q in points)), key=lambda p: (p["latency_ms"], -p["psnr"])
    )


def ranks(points: Sequence[dict[str, Any]]) -> list[int]:
    """Non-dominated sorting: 0 for the front, 1 for the front of the rest, and so on."""
    left = list(range(len(points)))
    out = [0] * len(points)
    r = 0
    while left:
        layer = [i for i in left if not any(dominates(points[j], points[i]) for j in left if j != i)]
        for i in layer:
            out[i] = r
        left = [i for i in left if i not in layer]
        r += 1
    return out


def top_under(points: Sequence[T], budget_ms: float, k: int) -> list[T]:
    """The ``k`` highest-PSNR points whose latency is within ``budget_ms`` (the faster first on a tie)."""
    ok = [p for p in points if p["latency_ms"] <= budget_ms]
    return sorted(ok, key=lambda p: (-p["psnr"], p["latency_ms"]))[:k]


def best_under(points: Sequence[T], budget_ms: float) -> T | None:
    """The highest-PSNR point whose latency is within ``budget_ms`` (None if none is)."""
    top = top_under(points, budget_ms, 1)
    return top[0] if top else None


def shortlist_under(pts: Sequence[T], budget_ms: float, k: int, tolerance: float = 0.0) -> list[T]:
    """The ``k`` points to train under ``budget_ms``: the best by supernet PSNR; but where more than
    ``k`` lie within ``tolerance`` dB of the best (a tie the supernet cannot break), ``k`` of those
    spread over the latencies they span, since latency is all the supernet tells apart there."""
    ok = top_under(pts, budget_ms, len(pts))
    tied = [p for p in ok if p["psnr"] >= ok[0]["psnr"] - tolerance] if ok else []
    return spread(tied, k) if len(tied) > k > 1 else ok[:k]


def spread(pts: Sequence[T], k: int) -> list[T]:
    """``k`` of ``pts`` (k >= 2) nearest to evenly spaced log latencies from the fastest to the slowest."""
    by = sorted(pts, key=lambda p: p["latency_ms"])
    lo, hi = math.log(by[0]["latency_ms"]), math.log(by[-1]["latency_ms"])
    chosen: list[T] = []
    for i in range(k):
        target = lo + (hi - lo) * i / (k - 1)
        left = [p for p in by if p not in chosen]
        chosen.append(min(left, key=lambda p: abs(math.log(p["latency_ms"]) - target)))
    return chosen


def shortlist(pts: Sequence[T], budgets_ms: Sequence[float], k: int, tolerance: float = 0.0) -> list[T]:
    """:func:`shortlist_under` each budget, each point (by its ``key``) once, in budget order."""
    seen: dict[str, T] = {}
    for b in budgets_ms:
        for p in shortlist_under(pts, b, k, tolerance):
            seen.setdefault(p["key"], p)
    return list(seen.values())
