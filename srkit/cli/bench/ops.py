"""``srkit-bench ops``: every op x implementation x shape x dtype, each row naming the backend that ran."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from ...profiler import cases as opcases
from ...profiler import opbench, report
from ...profiler.device import Peaks, peaks, slug
from .common import MAX_SECONDS, REPS, as_tuple, console, device_header, options, progress, write

OP_COLUMNS = [
    ("op", "op", ""),
    ("impl", "impl", ""),
    ("ran", "backend_ran", ""),
    ("shape", "shape", ""),
    ("dtype", "dtype", ""),
    ("median ms", "median_ms", ".3f"),
    ("p10", "p10_ms", ".3f"),
    ("p90", "p90_ms", ".3f"),
    ("GB/s", "GB/s", ".1f"),
    ("TFLOP/s", "TFLOP/s", ".3f"),
    ("% roofline", "fraction_of_roofline", ".1%"),
    ("vs eager", "speedup_vs_eager", ".2f"),
    ("[min", "speedup_vs_eager_min", ".2f"),
    ("max]", "speedup_vs_eager_max", ".2f"),
    ("ok", "correct", ""),
]


@dataclasses.dataclass(frozen=True)
class OpsRun:
    """What ``srkit-bench ops`` times, typed once from the command line (or built directly)."""

    device: str
    quick: bool = False
    only: tuple[str, ...] | None = None
    backends: tuple[str, ...] | None = None
    compile: bool | None = None  # None: torch.compile rows unless quick
    reps: int = REPS
    max_seconds: float = MAX_SECONDS

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> OpsRun:
        return cls(a.device, a.quick, as_tuple(a.only), as_tuple(a.backends), a.compile, a.reps, a.max_seconds)


def run_ops(run: OpsRun, con: Any, pk: Peaks) -> tuple[list[dict[str, Any]], bool]:
    compile_ = run.compile if run.compile is not None else not run.quick
    impls = opbench.implementations(run.device, compile=compile_, backends=run.backends)
    todo = opcases.cases(run.device, run.quick, run.only)
    rows: list[dict[str, Any]] = []
    with progress(len(todo), "ops") as step:
        for case in todo:
            step(f"{case.op} {'x'.join(map(str, case.shape))} {case.dtype}")
            rows += opbench.run_case(case, run.device, impls, pk, reps=run.reps, max_seconds=run.max_seconds)
    con.print(report.table(f"srkit ops on {run.device}", rows, OP_COLUMNS))
    bad = [r for r in rows if not r["correct"]]
    for r in rows:
        if r.get("fallback"):
            con.print(f"[yellow]fallback[/] {r['op']} {r['impl']}: {r['fallback']}")
    return rows, not bad


def run(args: argparse.Namespace) -> int:
    con = console()
    pk = peaks(args.device, remeasure=args.remeasure_peaks)
    fp = device_header(con, args.device, pk)
    t0 = time.perf_counter()
    rows, ok = run_ops(OpsRun.from_args(args), con, pk)
    out = Path(args.out)
    stem = f"ops_{slug(fp)}{'_quick' if args.quick else ''}"
    paths = write(
        out,
        stem,
        {
            "command": "ops",
            "fingerprint": fp,
            "peaks": pk.as_dict(),
            "quick": args.quick,
            "seconds": time.perf_counter() - t0,
            "rows": rows,
        },
        rows,
    )
    png = report.plot_op_speedups(out / f"{stem}.png", rows, fp["device"])
    con.print("wrote " + ", ".join(str(p) for p in paths + ([png] if png else [])))
    if not ok:
        con.print("[red]some results were wrong (column ok)[/]")
    return 0 if ok else 1


def add_parser(sub: Any) -> None:
    o = sub.add_parser("ops", help="every op x implementation x shape x dtype")
    options(o, sub=True)
    o.add_argument(
        "--only",
        nargs="+",
        choices=opcases.NAMES,
        help="these ops (any registered op by its name; an op of a block runs its block's case) or cases",
    )
    o.add_argument("--quick", action="store_true", help="fewer shapes; no torch.compile unless --compile")
    o.add_argument("--compile", dest="compile", action="store_true", default=None, help="include torch.compile rows")
    o.add_argument("--no-compile", dest="compile", action="store_false", help="leave out torch.compile rows")
    o.add_argument(
        "--backends",
        nargs="+",
        choices=("triton", "cuda", "cpp", "torch"),
        help="srkit backends to time (default: all that run here)",
    )
    o.set_defaults(func=run)
