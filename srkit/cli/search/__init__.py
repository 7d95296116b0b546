"""``srkit-search``: latency-aware architecture search on the device it runs on.

    srkit-search --quick --out DIR            the one-shot search end to end on the embedded photos (CPU: minutes)
    srkit-search spos --out DIR [options]     supernet (uniform single-path sampling), evolution, front, export, retrain
    srkit-search report DIR                   the Pareto front (JSON + PNG) and genotypes of a run
    srkit-search curves --out DIR --models M... --data D... --benchmarks B...
                                              learning curves: networks retrained with the search's recipe for a
                                              long budget, snapshots scored on every benchmark set
    srkit-search nni --out DIR [--mode nas|hpt|srgan] [--tuner TPE|Evolution|Random|Anneal] [--trials N]
                                              multi-trial search or hyper-parameter tuning as an NNI experiment
    srkit-search reinforce --out DIR [--quick]  DeCoNAS's dense space: a REINFORCE controller, PSNR minus complexity

Options can come from a file: ``srkit-search spos @bench/recipes/cpu_x4_y_spread.args --out DIR``
(whitespace-separated, ``#`` comments). A run folder resumes with ``--resume``: the supernet from its
checkpoint, the search from its log, no candidate scored twice.

One module a subcommand (this package's spos, report, curves, nni, reinforce).
"""

from __future__ import annotations

import argparse
import sys

from ..errors import run_cli
from . import curves, nni, reinforce, report, spos

SUBCOMMANDS = {"spos": spos, "report": report, "curves": curves, "nni": nni, "reinforce": reinforce}


class _Parser(argparse.ArgumentParser):
    """Reads ``@FILE`` arguments as whitespace-separated words with ``#`` comments (a recipe file)."""

    def convert_arg_line_to_args(self, arg_line: str) -> list[str]:
        return arg_line.split("#", 1)[0].split()


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="srkit-search",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
        fromfile_prefix_chars="@",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in SUBCOMMANDS.values():
        module.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    return run_cli("srkit-search", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and "--quick" in argv:
        argv = ["spos", *argv]  # srkit-search --quick: the small search, spos's own option
    if not argv or (argv[0] not in SUBCOMMANDS and not {"-h", "--help"} & set(argv)):
        # a bare srkit-search (or options alone) never starts a long default search
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        print(
            "srkit-search: name what to run: spos, nni, reinforce, curves or report (or --quick for the small "
            "search on the embedded photos); srkit-search --help says more",
            file=sys.stderr,
        )
        return 2
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
