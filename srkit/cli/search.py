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

A run folder resumes with ``--resume``: the supernet from its checkpoint, the search from its log,
no candidate scored twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import torch

from srkit.models.upsamplers import BASE_UPSAMPLERS, UPSAMPLERS

from .args import check_order, count, number, size_hw
from .errors import UsageError, device, run_cli


def _spos_args(p: argparse.ArgumentParser) -> None:
    _folder_args(p)
    p.add_argument("--device", type=device, default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--data",
        nargs="+",
        default=["skimage"],
        help="training folder(s) (HR/ [+ LR_bicubic/X<s>/]), taken as one set, or 'skimage'",
    )
    p.add_argument(
        "--holdout",
        type=count(2),
        help="folders: every n-th image ranks candidates, kept out of supernet training (10)",
    )
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    p.add_argument(
        "--channels",
        type=count(1),
        nargs="+",
        default=[32],
        help="width(s); several make the width a one-shot choice (one supernet sliced to each)",
    )
    p.add_argument(
        "--upsamplers",
        nargs="+",
        choices=UPSAMPLERS,
        help="upsampler choices (default: the three without +skip; imdb: direct)",
    )
    p.add_argument(
        "--min-blocks", type=count(0), default=2, help="0 admits members of no block: head, body conv and tail (2)"
    )
    p.add_argument("--max-blocks", type=count(1), default=6)
    _space_wide_args(p)
    p.add_argument(
        "--space",
        choices=("blocks", "imdb"),
        default="blocks",
        help="srkit's block catalogue, or the IMDB multi-path space",
    )
    p.add_argument(
        "--imdb-paths",
        choices=("dynamic", "five"),
        default="dynamic",
        help="imdb: all 2^n stage patterns, or the five prefix paths of four stages",
    )
    p.add_argument("--imdb-stages", type=count(1), default=3, help="imdb --imdb-paths dynamic: stages per block")
    p.add_argument(
        "--distill",
        type=number(0.0, above=True, maximum=1.0),
        nargs="+",
        default=[0.25],
        help="imdb: distillation rates to choose from",
    )
    p.add_argument("--shared", action="store_true", help="imdb: share stage/last/fusion weights across paths")
    _spos_run_args(p)


def _space_wide_args(p: argparse.ArgumentParser) -> None:
    """The block space's choices every member shares: weight norm, input normalisation, colour."""
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
        default=3,
        help="blocks: 1 makes every member work on Y, as ESPCN and FSRCNN do (all are scored on Y); default 3 (RGB)",
    )
    p.add_argument(
        "--input-std",
        type=number(0.0, above=True),
        default=1.0,
        help="with --input-mean: the input's divisor (WDSR: 0.5; default 1)",
    )


def _budget_args(p: argparse.ArgumentParser) -> None:
    """How the exports' budgets are set against the device's timing spread."""
    p.add_argument(
        "--budget-margin",
        type=number(0.0, above=True, maximum=1.0),
        help="export under this fraction of each budget, room for the device's timing spread (1)",
    )
    p.add_argument(
        "--budget-rounds",
        type=count(0),
        help="before exporting, time the front and the baselines again in this many interleaved rounds and "
        "set budgets and picks by their medians (0: the search's single timings)",
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
        "--rank-tolerance",
        type=number(0.0),
        help="supernet PSNRs within this many dB of a budget's best are a tie the supernet cannot break: "
        "--rank-top's shortlist spreads over their latencies instead (0)",
    )


def _spos_run_args(p: argparse.ArgumentParser) -> None:
    """Supernet training, evolution, latency, export and retraining options."""
    p.add_argument("--iters", type=count(1), help="supernet training steps (2000)")
    p.add_argument("--patch", type=count(8), help="HR patch side (96)")
    p.add_argument("--batch", type=count(1), help="supernet batch (16)")
    p.add_argument("--population", type=count(2), help="evolution's population (16)")
    p.add_argument("--topk", type=count(1), help="parents kept per generation (8)")
    p.add_argument("--generations", type=count(0), help="evolution's generations (5)")
    p.add_argument(
        "--budget-ms",
        type=number(0.0, above=True),
        help="only architectures within this latency (else: the Pareto front)",
    )
    p.add_argument("--latency-input", type=size_hw, help="LR size HxW the latency is measured at (270x480)")
    p.add_argument("--latency-table", help="predict latency from this `srkit-bench lut` table (made on this device)")
    _runtime_arg(p)
    p.add_argument(
        "--budgets",
        nargs="+",
        type=number(0.0, above=True),
        help="export the best architecture under each (ms)",
    )
    p.add_argument(
        "--baselines",
        nargs="+",
        default=None,
        help="hand-designed networks timed in the run (name or name:key=value,...; default: "
        "fsrcnn espcn carn_m imdn rfdn rlfn wdsr_b)",
    )
    p.add_argument(
        "--budgets-from-baselines",
        action="store_true",
        help="export the best architecture under each baseline's measured latency",
    )
    _budget_args(p)
    p.add_argument("--retrain-iters", type=count(0), help="retrain the exported architectures from scratch (0: not)")
    p.add_argument("--retrain-baselines", nargs="*", help="baselines to retrain alongside, e.g. rlfn imdn, or all")
    p.add_argument("--retrain-top", type=count(1), help="retrain this many exports (highest supernet PSNR first)")
    _rank_args(p)
    p.add_argument("--benchmarks", nargs="*", help="folders the retrained models are scored on (e.g. Set5)")
    p.add_argument(
        "--timing-rounds",
        type=count(0),
        help="finally time the retrained models in this many interleaved rounds (their spread)",
    )
    p.add_argument(
        "--until",
        choices=("supernet", "evolution", "retrain", "timing"),
        default="timing",
        help="stop after this phase (a long run taken piecewise with --resume)",
    )
    p.add_argument("--only", nargs="+", default=(), help="retrain just these labels (one retrain at a time)")
    p.add_argument("--seed", type=count(0), help="the supernet's paths and the evolution's draws (0)")


def _folder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")


def _runtime_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--latency-runtime",
        choices=("torch", "ort"),
        default="torch",
        help="time candidates on PyTorch (srkit's ops) or ONNX Runtime (the runtime you ship; srkit[onnx])",
    )


def _owned(args: argparse.Namespace):  # a context manager
    """The run folder, locked for this search and checked: a folder holding a search is refused
    unless --resume continues it or --overwrite replaces it."""
    from srkit.search.runlog import RUN_FILES
    from srkit.train.runfolder import claim

    return claim(Path(args.out), resume=args.resume, overwrite=args.overwrite, files=RUN_FILES, kind="search")


def _config(args: argparse.Namespace):
    """The command line as a SearchConfig; the config checks its own cross-field rules."""
    from srkit.search.evolution import EvolutionConfig
    from srkit.search.spos import SearchConfig, quick
    from srkit.search.supernet import SupernetConfig

    if args.quick:
        return dataclasses.replace(quick(args.device), latency_runtime=args.latency_runtime)
    widths = tuple(args.channels)
    search = _given(
        args,
        holdout="holdout",
        latency_input="latency_input",
        latency_table="latency_table",
        latency_runtime="latency_runtime",
        baselines="baselines",
        budgets_ms="budgets",
        budget_margin="budget_margin",
        budget_rounds="budget_rounds",
        retrain_iters="retrain_iters",
        retrain_baselines="retrain_baselines",
        retrain_top="retrain_top",
        rank_top="rank_top",
        rank_iters="rank_iters",
        rank_tolerance="rank_tolerance",
        timing_rounds="timing_rounds",
    )
    if args.benchmarks is not None:
        search["benchmarks"] = tuple(_folder(b) for b in args.benchmarks)
    train = _given(args, iters="iters", patch="patch", batch="batch", seed="seed")
    evo = _given(
        args, population="population", topk="topk", iterations="generations", budget_ms="budget_ms", seed="seed"
    )
    return SearchConfig(
        space=_space(args),
        channels=widths[0] if len(widths) == 1 else None,
        shared=args.shared,
        data=_data(args.data),
        device=args.device,
        supernet=SupernetConfig(**train),
        evolution=EvolutionConfig(**evo),
        budgets_from_baselines=args.budgets_from_baselines,
        **search,
    )


def _given(args: argparse.Namespace, **fields: str) -> dict[str, Any]:
    """{field: the option's value} for the options given on the command line (lists as tuples);
    an option left out is dropped, so the config's own default applies (one place for each)."""
    values = {field: getattr(args, opt) for field, opt in fields.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}


def _space(args: argparse.Namespace):
    from srkit.search.imdb_space import imdb_space
    from srkit.search.space import BlockSpace

    widths = tuple(args.channels)
    if args.space == "imdb" and (args.weight_norm or args.input_mean or args.in_channels != 3):
        raise UsageError("--weight-norm, --input-mean and --in-channels are choices of --space blocks; imdb has none")
    if args.space == "imdb":
        return imdb_space(
            args.scale,
            widths,
            args.min_blocks,
            args.max_blocks,
            args.imdb_paths,
            args.imdb_stages,
            tuple(args.distill),
            upsamplers=tuple(args.upsamplers or ("direct",)),
        )
    return BlockSpace(
        scale=args.scale,
        channels=widths,
        min_blocks=args.min_blocks,
        max_blocks=args.max_blocks,
        upsamplers=tuple(args.upsamplers or BASE_UPSAMPLERS),
        weight_norm=args.weight_norm,
        input_mean=_input_mean(args.input_mean, args.in_channels),
        input_std=args.input_std,
        in_channels=args.in_channels,
    )


def _input_mean(spec: str | None, channels: int) -> tuple[float, ...] | None:
    from srkit.train.data import rgb_mean

    if spec is None or spec == "none":
        return None
    if spec == "data":
        raise UsageError("--input-mean data is not offered; give 'div2k' or 'r,g,b'")
    try:
        return tuple(rgb_mean(spec, [], channels) or ())  # an RGB mean is taken to Y for a Y space
    except ValueError as e:
        raise UsageError(f"--input-mean {spec!r}: {e}") from None


def _data(folders: list[str]) -> str:
    """--data's folders as one dataset string (PATH-style), each checked; or 'skimage'."""
    if folders == ["skimage"]:
        return "skimage"
    return os.pathsep.join(_folder(f) for f in folders)


def _folder(path: str) -> str:
    if not Path(path).is_dir():
        raise UsageError(f"{path}: not a folder (give HR/ [+ LR_bicubic/X<s>/])")
    return str(Path(path).resolve())


def run_spos(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from rich.console import Console

    from srkit.search import spos
    from srkit.search.evolution import EvolutionConfig

    con = Console()
    check_order(parser, ("--min-blocks", args.min_blocks), ("--max-blocks", args.max_blocks))
    evo = EvolutionConfig()  # argparse's own line for the two options it can compare, unset ones at their defaults
    check_order(parser, ("--topk", args.topk or evo.topk), ("--population", args.population or evo.population))
    try:
        cfg = _config(args)
        with _owned(args):
            res = spos.run(
                cfg,
                Path(args.out),
                log=lambda s: con.print(s, highlight=False),
                until=getattr(args, "until", "timing"),
                only=tuple(getattr(args, "only", ())),
            )
    except ValueError as e:  # the configuration's and the run's own lines (one each): the user's to change
        raise UsageError(str(e)) from e
    _print(con, res)
    return 0


def _print(con, res: dict) -> None:
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


def run_report(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from srkit.search import report
    from srkit.search.runlog import RunLog
    from srkit.search.spos import export_run

    out = Path(args.dir)
    if not (out / "log.jsonl").is_file():
        raise UsageError(f"{out}: not a search run folder (no log.jsonl)")
    cfg = json.loads((out / "config.json").read_text())
    runlog = RunLog(out / "log.jsonl")
    scale = int(cfg["space"]["scale"])
    try:  # the budgets the run exported under, and its shortlists' training
        export_run(out, cfg, runlog)
    except ValueError as e:
        raise UsageError(f"{e}") from None
    res = report.write(out, runlog, scale, cfg["latency_input"], "table" if cfg.get("latency_table") else "measured")
    _print(Console(), res)
    return 0


def _curves_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srkit-search curves",
        description="networks trained from scratch with the search's retraining recipe for a long budget; "
        "their weights at --at iterations scored on every benchmark (resumable, each record once)",
    )
    _folder_args(p)
    p.add_argument("--models", nargs="+", required=True, help="baseline specs (imdn, imdn:channels=32) or genotypes")
    p.add_argument("--data", nargs="+", default=["skimage"], help="training folders (HR/), or skimage")
    p.add_argument("--benchmarks", nargs="+", required=True, help="folders scored at each snapshot")
    p.add_argument("--scale", type=count(1), default=4)
    p.add_argument("--iters", type=count(1), default=16_000)
    p.add_argument("--at", type=count(1), nargs="+", default=[1_000, 4_000, 16_000], help="iterations scored")
    p.add_argument("--patch", type=count(1), default=96, help="HR patch side")
    p.add_argument("--batch", type=count(1), default=16)
    p.add_argument("--lr", type=number(above=True), default=1e-3)
    p.add_argument("--device", type=device, default="cpu")
    p.add_argument(
        "--official", nargs="+", default=[], metavar="LABEL=FILE", help="published checkpoints to rank against"
    )
    return p


def _official(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        label, eq, path = item.partition("=")
        if not eq or not label or not path:
            raise UsageError(f"--official {item!r}: expected LABEL=FILE")
        if not Path(path).is_file():
            raise UsageError(f"--official {item!r}: no such checkpoint file")
        out[label] = path
    return out


def run_curves(argv: list[str]) -> int:
    from rich.console import Console

    from srkit.search import curves
    from srkit.search.curves import CURVE_FILES, CurvesConfig
    from srkit.train.runfolder import claim

    a = _curves_parser().parse_args(argv)
    try:
        cfg = CurvesConfig(
            models=tuple(a.models),
            data=_data(a.data),
            benchmarks=tuple(_folder(b) for b in a.benchmarks),
            scale=a.scale,
            iters=a.iters,
            at=tuple(sorted(set(a.at))),
            patch=a.patch,
            batch=a.batch,
            lr=a.lr,
            device=a.device,
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    con = Console()
    with claim(Path(a.out), resume=a.resume, overwrite=a.overwrite, files=CURVE_FILES, kind="curves"):
        records = curves.run(cfg, a.out, official=_official(a.official), log=con.print)
    con.print(f"{len(records)} curve points in {a.out}/log.jsonl")
    return 0


def _nni_parser() -> argparse.ArgumentParser:
    from srkit.search import nni_adapter as na

    p = argparse.ArgumentParser(
        prog="srkit-search nni", description="multi-trial search or tuning through an NNI experiment"
    )
    _folder_args(p)
    p.add_argument(
        "--mode",
        choices=("nas", "hpt", "srgan"),
        default="nas",
        help="search architectures, tune --model's training, or search SRGAN's architecture and training",
    )
    p.add_argument("--srgan-space", help="srgan: a JSON space (SRGANSpace.save) instead of the default")
    p.add_argument("--vgg-weights", help="srgan: VGG19 weights (torchvision layout) for the VGG54 perceptual term")
    p.add_argument("--model", help="hpt: zoo name or genotype JSON")
    p.add_argument("--tuner", choices=na.TUNERS, default="TPE")
    p.add_argument("--trials", type=count(1), default=10)
    p.add_argument("--concurrency", type=count(1), default=1)
    p.add_argument(
        "--gpus", type=count(0), nargs="*", default=[], help="GPU indices for the trials (one GPU per trial)"
    )
    p.add_argument("--port", type=count(1), default=8080, help="NNI web UI port")
    p.add_argument("--training-service", default="local")
    p.add_argument("--device", type=device, default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--data", default="skimage")
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    p.add_argument("--channels", type=count(1), nargs="+", default=[32], help="nas: widths to choose from")
    p.add_argument(
        "--upsamplers",
        nargs="+",
        choices=UPSAMPLERS,
        default=list(BASE_UPSAMPLERS),
        help="nas: upsamplers to choose from",
    )
    p.add_argument("--min-blocks", type=count(1), default=2)
    p.add_argument("--max-blocks", type=count(1), default=6)
    p.add_argument("--iters", type=count(1), default=1000, help="training iterations per trial")
    p.add_argument("--patch", type=count(8), default=96)
    p.add_argument("--batch", type=count(1), default=16)
    p.add_argument("--lr", type=number(0.0, above=True), default=5e-4)
    p.add_argument("--latency-input", type=size_hw, default=(270, 480), help="LR size HxW the latency is measured at")
    _runtime_arg(p)
    p.add_argument(
        "--target-ms",
        type=number(0.0, above=True),
        help="latency target: the reward loses --penalty-db per 100%% above it",
    )
    p.add_argument("--penalty-db", type=number(0.0), default=1.0)
    p.add_argument("--seed", type=count(0), default=0)
    return p


def _nni_settings(a: argparse.Namespace) -> tuple[Any, Any]:
    """(NNISettings, ExperimentConfig) from the parsed options; the space is printed with its size."""
    from srkit.search import nni_adapter as na
    from srkit.search.space import BlockSpace
    from srkit.search.srgan_space import SRGANSpace

    if a.mode == "srgan":
        space: BlockSpace | SRGANSpace = SRGANSpace.load(a.srgan_space) if a.srgan_space else SRGANSpace()
    else:
        space = BlockSpace(
            scale=a.scale,
            channels=tuple(a.channels),
            min_blocks=a.min_blocks,
            max_blocks=a.max_blocks,
            upsamplers=tuple(a.upsamplers),
        )
    print(f"search space: {space.size():,} points" + (" x a learning rate" if a.mode == "srgan" else ""))
    s = na.NNISettings(
        mode=a.mode,
        out=a.out,
        space=space.as_dict(),
        vgg_weights=a.vgg_weights,
        model=a.model,
        scale=a.scale,
        data=a.data,
        iters=a.iters,
        patch=a.patch,
        batch=a.batch,
        lr=a.lr,
        device=a.device,
        latency_input=tuple(a.latency_input),
        latency_runtime=a.latency_runtime,
        target_ms=a.target_ms,
        penalty_db=a.penalty_db,
    )
    cfg = na.ExperimentConfig(
        tuner=a.tuner,
        trials=a.trials,
        concurrency=a.concurrency,
        gpu_indices=tuple(a.gpus),
        port=a.port,
        training_service=a.training_service,
        seed=a.seed,
    )
    return s, cfg


def run_nni(argv: list[str]) -> int:
    from srkit.search import nni_adapter as na

    p = _nni_parser()
    a = p.parse_args(argv)
    check_order(p, ("--min-blocks", a.min_blocks), ("--max-blocks", a.max_blocks))
    if a.mode == "hpt" and not a.model:
        raise UsageError("nni --mode hpt needs --model (a zoo name or a genotype JSON)")
    try:
        s, cfg = _nni_settings(a)
        with _owned(a):
            done = na.run(s, cfg, resume=a.resume)
    except ValueError as e:
        raise UsageError(f"{e}") from e
    for r in sorted(done, key=lambda r: -r["reward"]):
        print(
            f"{r['model']}: reward {r['reward']:.3f}, PSNR {r['psnr']:.3f} dB, "
            f"latency {r['latency_ms']:.3f} ms ({r['trial']})"
        )
    b = na.best(done)
    if b is None:
        print("no trial finished; see the NNI logs under", Path(a.out) / "nni")
        return 1
    print(f"best: {b['model']} (reward {b['reward']:.3f})")
    return 0


def run_reinforce(argv: list[str]) -> int:
    from srkit.search import reinforce as rf
    from srkit.search.dense import DenseSpace
    from srkit.search.supernet import SupernetConfig

    p = argparse.ArgumentParser(prog="srkit-search reinforce", description="REINFORCE over DeCoNAS's dense connections")
    _folder_args(p)
    p.add_argument("--quick", action="store_true", help="a small run on the embedded photographs (minutes on a CPU)")
    p.add_argument("--device", type=device, default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    p.add_argument("--blocks", type=count(1), default=4)
    p.add_argument("--layers", type=count(1), default=4)
    p.add_argument("--channels", type=count(1), default=32)
    p.add_argument("--iters", type=count(1), default=5000, help="supernet training steps")
    p.add_argument("--steps", type=count(1), default=200, help="controller steps")
    p.add_argument(
        "--penalty-db", type=number(0.0), default=0.5, help="dB per fully dense network's worth of complexity"
    )
    p.add_argument("--complexity", choices=("params", "flops", "latency"), default="params")
    p.add_argument("--latency-input", type=size_hw, default=(270, 480))
    a = p.parse_args(argv)
    if a.quick:
        cfg = rf.quick_dense(a.device)
    else:
        cfg = rf.DenseSearchConfig(
            space=DenseSpace(a.scale, a.blocks, a.layers, a.channels),
            device=a.device,
            supernet=SupernetConfig(iters=a.iters),
            latency_input=tuple(a.latency_input),
            controller=rf.ReinforceConfig(steps=a.steps, penalty_db=a.penalty_db, complexity=a.complexity),
        )
    try:
        with _owned(a):
            rf.run(cfg, a.out)
    except ValueError as e:
        raise UsageError(f"{e}") from e
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("srkit-search", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "reinforce":
        return run_reinforce(argv[1:])
    if argv and argv[0] == "nni":
        return run_nni(argv[1:])
    if argv and argv[0] == "curves":
        return run_curves(argv[1:])
    if argv and argv[0] == "report":
        p = argparse.ArgumentParser(prog="srkit-search report")
        p.add_argument("dir")
        return run_report(p.parse_args(argv[1:]))
    spos = bool(argv) and argv[0] == "spos"
    if spos:
        argv = argv[1:]
    p = argparse.ArgumentParser(
        prog="srkit-search",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    p.add_argument("--quick", action="store_true", help="the small end-to-end search on the embedded photographs")
    _spos_args(p)
    if not spos and "--quick" not in argv and not {"-h", "--help"} & set(argv):
        # a bare srkit-search (or options alone) never starts a long default search
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        print(
            "srkit-search: name what to run: spos, nni, reinforce, curves or report (or --quick for the small "
            "search on the embedded photos); srkit-search --help says more",
            file=sys.stderr,
        )
        return 2
    return run_spos(p, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
