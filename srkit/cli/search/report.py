"""``srkit-search report DIR``: a run's front, report and plot written again from its log."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UsageError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="the Pareto front (JSON + PNG) and genotypes of a run")
    p.add_argument("dir", help="a search run folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from srkit.search import report
    from srkit.search.runlog import RunLog
    from srkit.search.spos import export_run
    from srkit.train import runfolder

    from .spos import print_result

    out = Path(args.dir)
    if not (out / "log.jsonl").is_file():
        raise UsageError(f"{out}: not a search run folder (no log.jsonl)")
    cfg = runfolder.read_config(out)
    if cfg is None:
        raise UsageError(f"{out}: not a search run folder (no {runfolder.CONFIG})")
    runlog = RunLog(out / "log.jsonl")
    scale = int(cfg["space"]["scale"])
    try:  # the budgets the run exported under, and its shortlists' training
        export_run(out, cfg, runlog)
    except ValueError as e:
        raise UsageError(f"{e}") from None
    method = "table" if cfg.get("latency_table") else "measured"
    res = report.write(out, runlog, scale, cfg["latency_input"], method, cfg.get("latency_runtime", "torch"))
    print_result(Console(), res)
    return 0
