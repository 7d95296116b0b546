"""``srkit-search curves``: networks trained from scratch with the search's recipe for a long budget,
their snapshots scored on every benchmark set. Options left out take CurvesConfig's defaults."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..args import as_options, count, default, given, number, options_of
from ..errors import UsageError, device
from .common import data, folder, folder_args, official_files

FIELDS = {"scale": "scale", "iters": "iters", "patch": "patch", "batch": "batch", "lr": "lr", "device": "device"}
OPTIONS = options_of(**FIELDS, models="models", benchmarks="benchmarks", data="data", at="at")


def add_parser(sub: Any) -> None:
    from srkit.search.curves import CurvesConfig as C

    p = sub.add_parser(
        "curves",
        help="learning curves of networks retrained for a long budget",
        description="networks trained from scratch with the search's retraining recipe for a long budget; "
        "their weights at --at iterations scored on every benchmark (resumable, each record once)",
    )
    folder_args(p)
    p.add_argument("--models", nargs="+", required=True, help="baseline specs (imdn, imdn:channels=32) or genotypes")
    p.add_argument("--data", nargs="+", help="training folders (HR/), or skimage " + default(C, "data"))
    p.add_argument("--benchmarks", nargs="+", required=True, help="folders scored at each snapshot")
    p.add_argument("--scale", type=count(1), help=default(C, "scale"))
    p.add_argument("--iters", type=count(1), help=default(C, "iters"))
    p.add_argument("--at", type=count(1), nargs="+", help="iterations scored " + default(C, "at"))
    p.add_argument("--patch", type=count(1), help="HR patch side " + default(C, "patch"))
    p.add_argument("--batch", type=count(1), help=default(C, "batch"))
    p.add_argument("--lr", type=number(above=True), help=default(C, "lr"))
    p.add_argument("--device", type=device, help="(default: cuda if any)")
    p.add_argument(
        "--official", nargs="+", default=[], metavar="LABEL=FILE", help="published checkpoints to rank against"
    )
    p.set_defaults(func=run)


def config(a: argparse.Namespace) -> Any:
    from srkit.search.curves import CurvesConfig

    fields = given(a, **FIELDS)
    if a.at is not None:
        fields["at"] = tuple(sorted(set(a.at)))
    if a.data is not None:
        fields["data"] = data(a.data)
    try:
        return CurvesConfig(models=tuple(a.models), benchmarks=tuple(folder(b) for b in a.benchmarks), **fields)
    except ValueError as e:
        raise UsageError(as_options(str(e), OPTIONS)) from None


def run(a: argparse.Namespace) -> int:
    from rich.console import Console

    from srkit.search import curves
    from srkit.search.curves import CURVE_FILES
    from srkit.train.runfolder import claim

    cfg = config(a)
    con = Console()
    with claim(Path(a.out), resume=a.resume, overwrite=a.overwrite, files=CURVE_FILES, kind="curves"):
        records = curves.run(cfg, a.out, official=official_files(a.official), log=con.print)
    con.print(f"{len(records)} curve points in {a.out}/log.jsonl")
    return 0
