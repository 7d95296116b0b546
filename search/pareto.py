"""Pareto fronts of (quality, latency): higher PSNR and lower latency are better."""

from __future__ import annotations

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
