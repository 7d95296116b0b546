"""``srkit-bench lut``: the latency table srkit-search consumes, and its check against whole models."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ...models.catalog import BlockSpec
from ...models.upsamplers import BASE_UPSAMPLERS, UPSAMPLERS
from ...profiler import lut as lutmod
from ...profiler import modelbench, report
from ...profiler.device import fingerprint, slug
from ..args import count, size_hw
from .common import console, options, progress


def run(args: argparse.Namespace) -> int:
    con = console()
    fp = fingerprint(args.device)
    con.print(f"[bold]{fp['device']}[/] ({args.device}): building the latency table")
    specs = tuple(BlockSpec.from_dict(d) for d in args.blocks) if args.blocks else lutmod.Grid().specs
    grid = lutmod.Grid(tuple(args.widths), tuple(args.sizes), tuple(args.scales), specs, tuple(args.upsamplers))
    t0 = time.perf_counter()
    items = grid.items()
    with progress(len(items), "lut") as step:
        table = lutmod.build(
            args.device,
            grid,
            dtype=args.dtype,
            batch=args.batch,
            channels_last=args.channels_last,
            reps=args.reps,
            max_seconds=args.max_seconds,
            progress=step,
            runtime=args.runtime,
        )
    out = Path(args.out)
    stem = f"lut_{slug(fp)}_{table.dtype}" + ("" if table.runtime == "torch" else f"_{table.runtime}")
    path = table.save(out / f"{stem}.json")
    rows = [{"entry": k} | v for k, v in table.entries.items()]
    report.write_csv(out / f"{stem}.csv", rows)
    con.print(
        report.table(
            f"latency table ({len(rows)} entries, {time.perf_counter() - t0:.0f} s)",
            rows,
            [
                ("entry", "entry", ""),
                ("ran", "backend_ran", ""),
                ("median ms", "median_ms", ".3f"),
                ("p10", "p10_ms", ".3f"),
                ("p90", "p90_ms", ".3f"),
            ],
        )
    )
    con.print(f"wrote {path}")
    if args.validate:
        _validate_lut(con, args, table, grid, fp, out / f"{stem}_validation.json")
    return 0


def _validate_lut(con: Any, args: argparse.Namespace, table: Any, grid: Any, fp: dict[str, Any], path: Path) -> None:
    """``--validate N``: N random BlockNets measured whole against the table's prediction, and
    against the sum of their parts timed in the same interleaved rounds."""
    checks = lutmod.validate(table, args.device, lutmod.sample_archs(grid, args.validate), reps=args.reps)
    errs = [abs(r["relative_error"]) for r in checks]
    adds = [abs(r["additivity_error"]) for r in checks]
    shown = [
        r
        | {
            "additivity": f"{r['additivity_error']:+.1%} [{r['additivity_error_min']:+.1%}, {r['additivity_error_max']:+.1%}]"
        }
        for r in checks
    ]
    con.print(
        report.table(
            "the table's predictions against whole-model measurements",
            shown,
            [
                ("c", "channels", ""),
                ("x", "scale", ""),
                ("blocks", "blocks", ""),
                ("upsampler", "upsampler", ""),
                ("predicted ms", "predicted_ms", ".3f"),
                ("measured ms", "measured_ms", ".3f"),
                ("error", "relative_error", "+.1%"),
                ("parts now ms", "parts_ms", ".3f"),
                ("parts/whole-1 per round", "additivity", ""),
            ],
        )
    )
    con.print(
        f"the table's error (timed when it was built): mean |error| {sum(errs) / len(errs):.1%}, max {max(errs):.1%}"
    )
    con.print(
        f"the parts' sum timed beside the whole (interleaved rounds): mean |error| {sum(adds) / len(adds):.1%}, "
        f"max {max(adds):.1%}"
    )
    report.write_json(
        path,
        {
            "fingerprint": fp,
            "timing": "the whole model, its stem and its distinct blocks timed together in interleaved rounds "
            "(srkit.profiler.timing.interleaved); relative_error: the table's prediction (timed when it was built) "
            "against the whole's median; additivity_error: the parts' sum against the whole, round by round",
            "rows": checks,
            "mean_abs_relative_error": sum(errs) / len(errs),
            "max_abs_relative_error": max(errs),
            "mean_abs_additivity_error": sum(adds) / len(adds),
            "max_abs_additivity_error": max(adds),
        },
    )


def _block(text: str) -> dict[str, Any]:
    import yaml

    try:
        d = yaml.safe_load(text)
        BlockSpec.from_dict(d)
    except (ValueError, TypeError, yaml.YAMLError) as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from e
    return d


def add_parser(sub: Any) -> None:
    t = sub.add_parser("lut", help="the latency table srkit-search consumes")
    options(t, sub=True)
    t.add_argument("--widths", nargs="+", type=count(1), default=list(lutmod.Grid.widths))
    t.add_argument("--sizes", nargs="+", type=size_hw, default=list(lutmod.Grid.sizes), help="LR feature-map sizes HxW")
    t.add_argument("--scales", nargs="+", type=count(1), default=list(lutmod.Grid.scales))
    t.add_argument(
        "--blocks",
        nargs="+",
        type=_block,
        help="block specs as YAML, e.g. '{type: wdsr_b, expansion: 6}' (default: the standard grid)",
    )
    t.add_argument(
        "--upsamplers", nargs="+", choices=UPSAMPLERS, default=list(BASE_UPSAMPLERS), help="the stems' upsamplers"
    )
    t.add_argument("--dtype", default="fp32", choices=("fp32", "fp16", "bf16"))
    t.add_argument("--batch", type=count(1), default=1)
    t.add_argument("--channels-last", action="store_true")
    t.add_argument(
        "--runtime",
        choices=modelbench.RUNTIMES,
        default="torch",
        help="time the blocks in PyTorch (srkit's ops) or ONNX Runtime (what srkit-search --latency-runtime reads)",
    )
    t.add_argument(
        "--validate",
        type=count(0),
        default=0,
        metavar="N",
        help="also measure N random BlockNets against the table's prediction",
    )
    t.set_defaults(func=run)
