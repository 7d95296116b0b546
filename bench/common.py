"""What the op benchmark scripts share: srkit-bench's runner, plus rows for outside baselines.

Each ``bench_<op>.py`` times that op's :mod:`srkit.profiler.cases` through srkit-bench's runner
(PyTorch eager, torch.compile, every srkit backend; each checked against float64) and adds the
baselines that live outside srkit (BasicSR's per-image loop, scikit-image), from srkit.reference,
where the tests check srkit's metrics against the same loops.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from srkit.profiler import cases, opbench
from srkit.profiler.device import Peaks
from srkit.profiler.timing import measure

ROOT = Path(__file__).resolve().parents[1]


def op_rows(op: str, device: str, quick: bool, peaks: Peaks) -> list[dict[str, Any]]:
    """srkit-bench's rows for every case of ``op`` (torch.compile rows unless ``quick``)."""
    impls = opbench.implementations(device, compile=not quick)
    rows: list[dict[str, Any]] = []
    for case in cases.BUILDERS[op](device, quick):
        rows += opbench.run_case(case, device, impls, peaks, max_seconds=3.0)
    return rows


def extra_row(
    case: cases.OpCase,
    impl: str,
    fn: Callable[[], object],
    device: str,
    peaks: Peaks,
    rows: list[dict[str, Any]],
    *,
    ok: bool = True,
    nbytes: float | None = None,
    reps: int = 5,
    op: str | None = None,
) -> dict[str, Any]:
    """A row for a baseline outside srkit, timed after the case's interleaved rounds (these loops take
    seconds a call), its speed-up the case's eager median over its own median."""
    t = measure(fn, device, warmup=1, reps=reps)
    eager = next(
        (
            r["median_ms"]
            for r in rows
            if r["op"] == case.op
            and r["shape"] == list(case.shape)
            and r["dtype"] == opbench.dtype_name(case.dtype)
            and r["impl"] == "torch-eager"
        ),
        None,
    )
    c = dataclasses.replace(case, nbytes=case.nbytes if nbytes is None else nbytes, op=op or case.op)
    r = opbench.row(c, impl, impl, None, t, peaks, ok, 0.0)
    r["speedup_vs_eager"], r["timed"] = (eager / t.median_ms if eager else None), "apart"
    return r


def ratio(rows: list[dict[str, Any]], op: str, slow: str, fast: str, shape: list[int] | None = None) -> float | None:
    """How many times faster implementation ``fast`` ran than ``slow`` (median over median)."""

    def find(impl: str) -> dict[str, Any] | None:
        return next(
            (r for r in rows if r["op"] == op and r["impl"] == impl and (shape is None or r["shape"] == shape)), None
        )

    a, b = find(slow), find(fast)
    return a["median_ms"] / b["median_ms"] if a and b else None
