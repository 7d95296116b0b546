"""``srkit-search spos`` (and ``srkit-search --quick``): the one-shot search. Every option left out
takes the default of the config it fills (SearchConfig, BlockSpace, SupernetConfig, EvolutionConfig)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from pathlib import Path
from typing import Any

from srkit.models.upsamplers import UPSAMPLERS

from ..args import as_options, count, default, given, number, options_of, size_hw
from ..errors import UsageError, device
from .common import blocks_in_order, data, folder, folder_args, official_files, owned, runtime_arg


def add_parser(sub: Any) -> None:
    from srkit.search.evolution import EvolutionConfig
    from srkit.search.spos import SearchConfig

    p = sub.add_parser("spos", help="supernet, evolution, front, export and retraining (the one-shot search)")
    p.add_argument("--quick", action="store_true", help="the small end-to-end search on the embedded photographs")
    folder_args(p)
    p.add_argument("--device", type=device, help="the device everything runs and is timed on (default: cuda if any)")
    p.add_argument(
        "--data",
        nargs="+",
        help="training folder(s) (HR/ [+ LR_bicubic/X<s>/]), taken as one set, or 'skimage' "
        + default(SearchConfig, "data"),
    )
    p.add_argument(
        "--holdout",
        type=count(2),
        help="folders: every n-th image ranks candidates, kept out of supernet training "
        + default(SearchConfig, "holdout"),
    )
    _space_args(p)
    _train_args(p, EvolutionConfig)
    _latency_args(p, SearchConfig)
    _export_args(p)
    _rank_args(p)
    _phase_args(p)
    _worker_args(p)
    p.set_defaults(func=run, parser=p)


def _space_args(p: argparse.ArgumentParser) -> None:
    from srkit.search.space import BlockSpace

    p.add_argument("--scale", type=int, choices=(2, 3, 4), help=default(BlockSpace, "scale"))
    p.add_argument(
        "--channels",
        type=count(1),
        nargs="+",
        help="width(s); several make the width a one-shot choice (one supernet sliced to each) "
        + default(BlockSpace, "channels"),
    )
    p.add_argument(
        "--upsamplers",
        nargs="+",
        choices=UPSAMPLERS,
        help="upsampler choices " + default(BlockSpace, "upsamplers") + "; imdb: direct",
    )
    p.add_argument(
        "--min-blocks",
        type=count(0),
        help="0 admits members of no block: head, body conv and tail " + default(BlockSpace, "min_blocks"),
    )
    p.add_argument("--max-blocks", type=count(1), help=default(BlockSpace, "max_blocks"))
    _space_wide_args(p)
    _imdb_args(p)


def _space_wide_args(p: argparse.ArgumentParser) -> None:
    """The block space's choices every member shares: weight norm, input normalisation, colour."""
    from srkit.search.space import BlockSpace

    p.add_argument(
        "--weight-norm",
        action="store_true",
        help="blocks: weight-normalise every convolution of the supernet and of every member (WDSR's training setup)",
    )
    p.add_argument(
        "--input-mean",
        metavar="MEAN",
        help="blocks: every member and the supernet see (x - MEAN) / --input-std, their output mapped back "
        "(EDSR's and WDSR's input normalisation); MEAN is 'div2k' or 'r,g,b' in [0, 1] (taken to Y with --in-channels 1)",
    )
    p.add_argument(
        "--in-channels",
        type=int,
        choices=(1, 3),
        help="blocks: 1 makes every member work on Y, as ESPCN and FSRCNN do (all are scored on Y), 3 on RGB "
        + default(BlockSpace, "in_channels"),
    )
    p.add_argument(
        "--input-std",
        type=number(0.0, above=True),
        help="with --input-mean: the input's divisor (WDSR: 0.5) " + default(BlockSpace, "input_std"),
    )


def _imdb_args(p: argparse.ArgumentParser) -> None:
    from srkit.search.imdb_space import imdb_space

    p.add_argument(
        "--space", choices=("blocks", "imdb"), default="blocks", help="srkit's block catalogue, or IMDB's multi-path"
    )
    p.add_argument(
        "--imdb-paths",
        choices=("dynamic", "five"),
        help="imdb: all 2^n stage patterns, or the five prefix paths of four stages " + default(imdb_space, "paths"),
    )
    p.add_argument(
        "--imdb-stages",
        type=count(1),
        help="imdb --imdb-paths dynamic: stages per block " + default(imdb_space, "stages"),
    )
    p.add_argument(
        "--distill",
        type=number(0.0, above=True, maximum=1.0),
        nargs="+",
        help="imdb: distillation rates to choose from " + default(imdb_space, "distill"),
    )
    p.add_argument("--shared", action="store_true", help="imdb: share stage/last/fusion weights across paths")


def _train_args(p: argparse.ArgumentParser, evo: type) -> None:
    from srkit.search.supernet import SupernetConfig

    p.add_argument("--iters", type=count(1), help="supernet training steps " + default(SupernetConfig, "iters"))
    p.add_argument("--patch", type=count(8), help="HR patch side " + default(SupernetConfig, "patch"))
    p.add_argument("--batch", type=count(1), help="supernet batch " + default(SupernetConfig, "batch"))
    p.add_argument(
        "--supernet-rule",
        choices=("uniform", "sandwich"),
        help="uniform: one path a step (SPOS); sandwich: the largest path on the target, the smallest and "
        "--sandwich-random uniform ones distilled from it " + default(SupernetConfig, "rule"),
    )
    p.add_argument(
        "--sandwich-random",
        type=count(0),
        help="uniform paths a sandwich step " + default(SupernetConfig, "sandwich_random"),
    )
    p.add_argument("--population", type=count(2), help="evolution's population " + default(evo, "population"))
    p.add_argument("--topk", type=count(1), help="parents kept per generation " + default(evo, "topk"))
    p.add_argument("--generations", type=count(0), help="evolution's generations " + default(evo, "iterations"))
    p.add_argument(
        "--budget-ms",
        type=number(0.0, above=True),
        help="only architectures within this latency (else: the Pareto front)",
    )
    p.add_argument("--seed", type=count(0), help="the supernet's paths and the evolution's draws (default: 0)")


def _latency_args(p: argparse.ArgumentParser, cfg: type) -> None:
    p.add_argument(
        "--latency-input", type=size_hw, help="LR size HxW the latency is measured at " + default(cfg, "latency_input")
    )
    p.add_argument("--latency-table", help="predict latency from this `srkit-bench lut` table (made on this device)")
    runtime_arg(p, cfg)
    p.add_argument(
        "--baselines", nargs="+", help="hand-designed networks timed in the run " + default(cfg, "baselines")
    )
    p.add_argument(
        "--budget-margin",
        type=number(0.0, above=True, maximum=1.0),
        help="export under this fraction of each budget, room for the device's timing spread "
        + default(cfg, "budget_margin"),
    )
    p.add_argument(
        "--budget-rounds",
        type=count(0),
        help="before exporting, time the front and the baselines again in this many interleaved rounds and "
        "set budgets and picks by their medians (0: the search's single timings) " + default(cfg, "budget_rounds"),
    )
    p.add_argument(
        "--timing-rounds",
        type=count(0),
        help="finally time the retrained models in this many interleaved rounds (their spread) "
        + default(cfg, "timing_rounds"),
    )


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--budgets", nargs="+", type=number(0.0, above=True), help="export the best architecture under each (ms)"
    )
    p.add_argument(
        "--budgets-from-baselines",
        action="store_true",
        help="export the best architecture under each baseline's measured latency",
    )
    p.add_argument("--retrain-iters", type=count(0), help="retrain the exported architectures from scratch (0: not)")
    p.add_argument("--retrain-baselines", nargs="*", help="baselines to retrain alongside, e.g. rlfn imdn, or all")
    p.add_argument("--retrain-top", type=count(1), help="retrain this many exports (highest supernet PSNR first)")
    p.add_argument(
        "--retrained-from",
        metavar="CURVES",
        help="a `srkit-search curves` folder: a baseline it trained with this run's recipe to --retrain-iters is "
        "taken (its scores and weights) instead of trained again",
    )
    p.add_argument("--benchmarks", nargs="*", help="folders the retrained models are scored on (e.g. Set5)")
    p.add_argument(
        "--official",
        nargs="+",
        metavar="LABEL=FILE",
        help="published checkpoints scored on the benchmarks and timed with the retrained models (report.md)",
    )


def _rank_args(p: argparse.ArgumentParser) -> None:
    """How the export under each budget is picked: the supernet's best, or the best of a shortlist trained."""
    p.add_argument(
        "--rank-top",
        type=count(0),
        help="under each budget, train this many of the best by supernet PSNR stand-alone (training images, "
        "scored on the held-out ones) and export the best of them (0: the supernet's best)",
    )
    p.add_argument("--rank-iters", type=count(1), help="--rank-top's training iterations (--retrain-iters)")
    p.add_argument(
        "--fidelity-sample",
        type=count(0),
        help="measure the ranking signals against long training (fidelity.json): train this many architectures "
        "(the shortlisted, then random members of the space) stand-alone for --fidelity-iters, and for --rank-iters "
        "where shorter (0: not measured)",
    )
    p.add_argument("--fidelity-iters", type=count(1), help="--fidelity-sample's long budget (--retrain-iters)")
    p.add_argument(
        "--fidelity-from",
        metavar="RUN",
        help="take --fidelity-sample's trainings from this run's folder where it trained the same members with "
        "the same recipe (another supernet rule compared on the same sample)",
    )
    p.add_argument(
        "--rank-tolerance",
        type=number(0.0),
        help="supernet PSNRs within this many dB of a budget's best are a tie the supernet cannot break: "
        "--rank-top's shortlist spreads over their latencies instead (0)",
    )


def _phase_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--until",
        choices=("supernet", "evolution", "retrain", "timing"),
        default="timing",
        help="stop after this phase (a long run taken piecewise with --resume)",
    )
    p.add_argument("--only", nargs="+", default=(), help="retrain just these labels (one retrain at a time)")


def _worker_args(p: argparse.ArgumentParser) -> None:
    """Where the ranking and retraining trainings run (srkit.search.jobs.Workers); timing stays here."""
    from srkit.search.jobs import ENGINES, Workers

    p.add_argument(
        "--workers",
        choices=ENGINES,
        help="run the ranking and retraining trainings here, one after another, or as NNI trials "
        "(the run folder on a filesystem every worker sees; latency is measured here) " + default(Workers, "engine"),
    )
    p.add_argument(
        "--concurrency", type=count(1), help="--workers nni: trials at once here " + default(Workers, "concurrency")
    )
    p.add_argument("--gpus", type=count(0), nargs="+", help="--workers nni: GPU indices, one GPU per trial")
    p.add_argument(
        "--machines",
        help="--workers nni: a YAML list of SSH machines (host, port, user, ssh_key_file, python_path) for "
        "NNI's remote service, one trial at a time on each",
    )
    p.add_argument(
        "--nni-port", type=count(1), help="--workers nni: the experiment's web UI port " + default(Workers, "port")
    )
    p.add_argument(
        "--retries",
        type=count(0),
        help="--workers nni: times a job left without a result (a worker lost) is dispatched again "
        + default(Workers, "retries"),
    )


def workers(args: argparse.Namespace):
    from srkit.search.jobs import Workers, machines_file

    w = given(args, engine="workers", concurrency="concurrency", gpu_indices="gpus", port="nni_port", retries="retries")
    if args.machines is not None:
        w["machines"] = machines_file(args.machines)
    return Workers(**w)


# SearchConfig's fields (dotted below it) and the options that fill them; also how its one-line
# problems are said in this command's words
SEARCH = {
    "device": "device",
    "holdout": "holdout",
    "latency_input": "latency_input",
    "latency_table": "latency_table",
    "latency_runtime": "latency_runtime",
    "baselines": "baselines",
    "budgets_ms": "budgets",
    "budget_margin": "budget_margin",
    "budget_rounds": "budget_rounds",
    "retrain_iters": "retrain_iters",
    "retrain_baselines": "retrain_baselines",
    "retrain_top": "retrain_top",
    "rank_top": "rank_top",
    "rank_iters": "rank_iters",
    "rank_tolerance": "rank_tolerance",
    "fidelity_sample": "fidelity_sample",
    "fidelity_iters": "fidelity_iters",
    "fidelity_from": "fidelity_from",
    "retrained_from": "retrained_from",
    "timing_rounds": "timing_rounds",
}
SUPERNET = {
    "iters": "iters",
    "patch": "patch",
    "batch": "batch",
    "seed": "seed",
    "rule": "supernet_rule",
    "sandwich_random": "sandwich_random",
}
EVOLUTION = {
    "population": "population",
    "topk": "topk",
    "iterations": "generations",
    "budget_ms": "budget_ms",
    "seed": "seed",
}
SPACE = {"scale": "scale", "channels": "channels", "min_blocks": "min_blocks", "max_blocks": "max_blocks"}
OPTIONS = (
    options_of(
        **SEARCH, data="data", benchmarks="benchmarks", official="official", shared="shared", channels="channels"
    )
    | options_of("supernet.", **SUPERNET)
    | options_of("evolution.", **EVOLUTION)
    | options_of("space.", **SPACE, upsamplers="upsamplers", in_channels="in_channels", input_std="input_std")
    | options_of(budgets_from_baselines="budgets_from_baselines")
)


def config(args: argparse.Namespace):
    """The command line as a SearchConfig; the config checks its own cross-field rules."""
    from srkit.search.evolution import EvolutionConfig
    from srkit.search.spos import SearchConfig, quick
    from srkit.search.supernet import SupernetConfig

    if args.quick:
        return dataclasses.replace(
            quick(**given(args, device="device")), **given(args, latency_runtime="latency_runtime")
        )
    search: dict[str, Any] = given(args, **SEARCH)
    if args.benchmarks is not None:
        search["benchmarks"] = tuple(folder(b) for b in args.benchmarks)
    if args.official is not None:
        search["official"] = official_files(args.official)
    if args.data is not None:
        search["data"] = data(args.data)
    space = _space(args)
    return SearchConfig(
        space=space,
        channels=space.channels[0] if len(space.channels) == 1 else None,
        shared=args.shared,
        supernet=SupernetConfig(**given(args, **SUPERNET)),
        evolution=EvolutionConfig(**given(args, **EVOLUTION)),
        budgets_from_baselines=args.budgets_from_baselines,
        **search,
    )


def _space(args: argparse.Namespace):
    from srkit.search.imdb_space import imdb_space
    from srkit.search.space import BlockSpace

    common = given(args, **SPACE)
    if args.space == "imdb":
        if args.weight_norm or args.input_mean or args.in_channels not in (None, 3):
            raise UsageError(
                "--weight-norm, --input-mean and --in-channels are choices of --space blocks; imdb has none"
            )
        imdb = given(args, paths="imdb_paths", stages="imdb_stages", distill="distill", upsamplers="upsamplers")
        return imdb_space(**common, **imdb)
    space = BlockSpace(
        **common,
        **given(args, upsamplers="upsamplers", in_channels="in_channels"),
        weight_norm=args.weight_norm,
    )
    if args.input_mean is not None:
        mean = _input_mean(args.input_mean, space.in_channels)
        space = dataclasses.replace(space, input_mean=mean, **given(args, input_std="input_std"))
    elif args.input_std is not None:
        space = dataclasses.replace(space, input_std=args.input_std)  # the space refuses a std without a mean
    return space


def _input_mean(spec: str, channels: int) -> tuple[float, ...] | None:
    from srkit.train.data import rgb_mean

    if spec == "none":
        return None
    if spec == "data":
        raise UsageError("--input-mean data is not offered; give 'div2k' or 'r,g,b'")
    try:
        return tuple(rgb_mean(spec, [], channels) or ())  # an RGB mean is taken to Y for a Y space
    except ValueError as e:
        raise UsageError(f"--input-mean {spec!r}: {e}") from None


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from srkit.search import spos
    from srkit.train import distributed

    con = Console()
    blocks_in_order(args)
    try:
        cfg, where = config(args), workers(args)
        # under torchrun, rank 0 holds the run folder and writes it; the other ranks train beside it
        with owned(args) if distributed.is_main() else contextlib.nullcontext():
            res = spos.run(
                cfg,
                Path(args.out),
                log=lambda s: con.print(s, highlight=False),
                until=args.until,
                only=tuple(args.only),
                workers=where,
            )
    except ValueError as e:  # the configuration's and the run's own lines (one each): the user's to change
        raise UsageError(as_options(str(e), OPTIONS)) from e
    if res:  # another torchrun rank returns nothing: rank 0 prints
        print_result(con, res)
    return 0


def print_result(con: Any, res: dict) -> None:
    from rich.table import Table

    t = Table(
        title=f"Pareto front: {res['scored']} scored, latency {res['latency_method']} at LR {res['latency_input_lr']}"
    )
    for c in ("architecture", "PSNR (supernet)", "latency ms"):
        t.add_column(c, justify="left" if c == "architecture" else "right")
    for p in res["front"]:
        t.add_row(p["key"], f"{p['psnr_supernet']:.3f}", f"{p['latency_ms']:.3f}")
    con.print(t)
    for b in res["baselines"]:
        con.print(f"baseline {b['model']}: {b['latency_ms']:.3f} ms ({b['params']:,} parameters)")
    for r in res["retrained"]:
        con.print(
            f"retrained {r['label']}: {r['psnr']:.3f} dB (bicubic {r['bicubic_psnr']:.3f}) at {r['latency_ms']:.3f} ms"
        )
    con.print("genotypes: " + ", ".join(res["genotypes"]))
