"""``srkit-bench``: how fast srkit's kernels and models are on this device, and what to pick.

    srkit-bench [--out DIR]                      quick tour: the ops, then IMDN x4 (CPU: < 2 minutes)
    srkit-bench ops [--only OP ...] [--quick]    every op x implementation x shape x dtype
    srkit-bench model NAME|FILE ... | --all      end-to-end latency, memory, per-layer breakdown
    srkit-bench lut                              the latency table srkit-search consumes
    srkit-bench ntire MODEL ... [--baseline M]   the NTIRE efficient-SR report: params, FLOPs, runtime, score

Every command prints a table, writes JSON (rows, device fingerprint, measured peaks) and CSV, and
plots to PNG under ``--out``. Each row names the backend that actually ran; a fallback is shown.
One module a subcommand: this package's ops, model, lut, ntire, and tour (no subcommand).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import UsageError, run_cli
from . import lut, model, ntire, ops, tour
from .model import MODEL_COLUMNS, ModelsRun
from .ops import OP_COLUMNS, OpsRun

__all__ = ["MODEL_COLUMNS", "OP_COLUMNS", "ModelsRun", "OpsRun", "UsageError", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    from .common import options

    p = argparse.ArgumentParser(
        prog="srkit-bench",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    options(p)
    sub = p.add_subparsers(dest="command")
    for module in (ops, model, lut, ntire):
        module.add_parser(sub)
    p.set_defaults(func=tour.run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return run_cli("srkit-bench", lambda: int(args.func(args) or 0))


if __name__ == "__main__":
    sys.exit(main())
