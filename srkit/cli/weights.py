"""``srkit weights``: the official checkpoints srkit knows by name, and downloading them."""

from __future__ import annotations

import argparse

from ..models import hub


def run(args: argparse.Namespace) -> int:
    for name in args.get:
        print(f"{name}: {hub.fetch(name)}")
    if args.get:
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"official checkpoints (--model NAME; cache: {hub.cache_dir()})")
    for col in ("name", "cached", "published at", "sha256"):
        t.add_column(col)
    for o in hub.OFFICIAL.values():
        cached = "yes" if hub.cached(o.name).is_file() else "no"
        t.add_row(o.name, cached, f"{o.repo}@{o.commit[:7]} {o.path}", o.sha256[:12])
    Console().print(t)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="list (or download) the official checkpoints srkit knows by name")
    p.add_argument("--get", nargs="+", default=[], metavar="NAME", help="download these into the cache and verify")
    p.set_defaults(func=run)
