"""``srkit models``: the zoo, with each model's scales and parameter count."""

from __future__ import annotations

import argparse

from ..models import create_model, list_models, load, model_entry
from .args import count


def describe_file(path: str) -> int:
    """Print what a checkpoint holds (architecture, hyper-parameters, scale, size needs, precision, layout)."""
    model = load(path)
    print(f"{path}:")
    for line in model.info.lines():
        print(f"  {line}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.describe:
        return describe_file(args.describe)
    from rich.console import Console
    from rich.table import Table

    t = Table(title="srkit model zoo (create_model(name, scale=...))")
    for col in ("name", "scales", f"params at x{args.scale}", "what"):
        t.add_column(col, justify="right" if col.startswith("params") else "left")
    for name in list_models():
        e = model_entry(name)
        s = args.scale if args.scale in e.scales else e.scales[0]
        n = sum(p.numel() for p in create_model(name, scale=s).parameters())
        t.add_row(name, ",".join(map(str, e.scales)), f"{n:,}" + ("" if s == args.scale else f" (x{s})"), e.summary)
    Console().print(t)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the model zoo")
    p.add_argument("--scale", type=count(1), default=4)
    p.add_argument(
        "--describe", metavar="FILE", help="describe the model a checkpoint holds instead of listing the zoo"
    )
    p.set_defaults(func=run)
