"""The ``srkit`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from . import compare, export, info, models, train, upscale, weights
from . import eval as eval_cmd
from .errors import run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="srkit", description="super-resolution toolkit on fused kernels")
    parser.add_argument("-v", "--verbose", action="store_true", help="log backend choices")
    sub = parser.add_subparsers(dest="command", required=True)
    info.add_parser(sub)
    eval_cmd.add_parser(sub)
    models.add_parser(sub)
    compare.add_parser(sub)
    upscale.add_parser(sub)
    train.add_parser(sub)
    export.add_parser(sub)
    weights.add_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return run_cli(f"srkit {args.command}", lambda: int(args.func(args) or 0))


if __name__ == "__main__":
    sys.exit(main())
