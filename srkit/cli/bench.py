"""``srkit-bench``: how fast srkit's kernels and models are on this device, and what to pick.

    srkit-bench [--out DIR]                      quick tour: the ops, then IMDN x4 (CPU: < 2 minutes)
    srkit-bench ops [--only OP ...] [--quick]    every op x implementation x shape x dtype
    srkit-bench model NAME|FILE ... | --all      end-to-end latency, memory, per-layer breakdown
    srkit-bench lut                              the latency table srkit-search consumes
    srkit-bench ntire MODEL ... [--baseline M]   the NTIRE efficient-SR report: params, FLOPs, runtime, score

Every command prints a table, writes JSON (rows, device fingerprint, measured peaks) and CSV, and
plots to PNG under ``--out``. Each row names the backend that actually ran; a fallback is shown.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from ..models import CheckpointError, create_model, from_genotype, hub, list_models, load
from ..models.catalog import BlockSpec
from ..models.upsamplers import BASE_UPSAMPLERS, UPSAMPLERS
from ..profiler import cases as opcases
from ..profiler import lut as lutmod
from ..profiler import modelbench, opbench, report
from ..profiler.device import Peaks, dtype_name, fingerprint, parse_dtype, peaks, slug
from . import bench_ntire
from .args import count, number, size_hw
from .errors import UsageError, device, run_cli

OP_COLUMNS = [
    ("op", "op", ""),
    ("impl", "impl", ""),
    ("ran", "backend_ran", ""),
    ("shape", "shape", ""),
    ("dtype", "dtype", ""),
    ("median ms", "median_ms", ".3f"),
    ("p10", "p10_ms", ".3f"),
    ("p90", "p90_ms", ".3f"),
    ("GB/s", "GB/s", ".1f"),
    ("TFLOP/s", "TFLOP/s", ".3f"),
    ("% roofline", "fraction_of_roofline", ".1%"),
    ("vs eager", "speedup_vs_eager", ".2f"),
    ("ok", "correct", ""),
]
MODEL_COLUMNS = [
    ("model", "model", ""),
    ("variant", "variant", ""),
    ("dtype", "dtype", ""),
    ("cl", "channels_last", ""),
    ("ran", "backend_ran", ""),
    ("median ms", "median_ms", ".3f"),
    ("p10", "p10_ms", ".3f"),
    ("p90", "p90_ms", ".3f"),
    ("img/s", "images_per_s", ".2f"),
    ("MP/s", "megapixels_per_s", ".2f"),
    ("peak MiB", "peak_memory_MiB", ".0f"),
    ("vs eager", "speedup_vs_eager", ".2f"),
    ("[min", "speedup_vs_eager_min", ".2f"),
    ("max]", "speedup_vs_eager_max", ".2f"),
    ("first call s", "first_call_s", ".1f"),
    ("dB vs fp32", "psnr_vs_fp32_eager_dB", ".1f"),
    ("error", "error", ""),
]
LAYER_COLUMNS = [
    ("level", "level", ""),
    ("layer", "layer", ""),
    ("type", "type", ""),
    ("ms", "ms", ".3f"),
    ("share", "share", ".1%"),
]


def _console() -> Any:
    from rich.console import Console

    return Console(width=max(160, Console().width))


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[str], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(),
        transient=True,
    ) as prog:
        task = prog.add_task(what, total=total)
        first = [True]

        def step(desc: str) -> None:
            if not first[0]:
                prog.advance(task)
            first[0] = False
            prog.update(task, description=f"{what}: {desc}")

        yield step
        prog.update(task, completed=total)


def _device_header(con: Any, device: str, pk: Peaks) -> dict[str, Any]:
    fp = fingerprint(device)
    mm = ", ".join(f"{k} {v:.2f}" for k, v in pk.matmul_TFLOPs.items())
    con.print(f"[bold]{fp['device']}[/] ({device}): copy bandwidth {pk.bandwidth_GBps:.1f} GB/s, matmul TFLOP/s {mm}")
    return fp


def _write(out: Path, stem: str, record: dict[str, Any], rows: list[dict[str, Any]]) -> list[Path]:
    return [report.write_json(out / f"{stem}.json", record), report.write_csv(out / f"{stem}.csv", rows)]


@dataclasses.dataclass(frozen=True)
class OpsRun:
    """What ``srkit-bench ops`` times, typed once from the command line (or built directly)."""

    device: str
    quick: bool = False
    only: tuple[str, ...] | None = None
    backends: tuple[str, ...] | None = None
    compile: bool | None = None  # None: torch.compile rows unless quick
    reps: int = 20
    max_seconds: float = 5.0

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> OpsRun:
        return cls(a.device, a.quick, _tuple(a.only), _tuple(a.backends), a.compile, a.reps, a.max_seconds)


def _tuple(values: list[Any] | None) -> tuple[Any, ...] | None:
    return tuple(values) if values else None


def run_ops(run: OpsRun, con: Any, pk: Peaks) -> tuple[list[dict[str, Any]], bool]:
    compile_ = run.compile if run.compile is not None else not run.quick
    impls = opbench.implementations(run.device, compile=compile_, backends=run.backends)
    todo = opcases.cases(run.device, run.quick, run.only)
    rows: list[dict[str, Any]] = []
    with _progress(len(todo), "ops") as step:
        for case in todo:
            step(f"{case.op} {'x'.join(map(str, case.shape))} {case.dtype}")
            rows += opbench.run_case(case, run.device, impls, pk, reps=run.reps, max_seconds=run.max_seconds)
    con.print(report.table(f"srkit ops on {run.device}", rows, OP_COLUMNS))
    bad = [r for r in rows if not r["correct"]]
    for r in rows:
        if r.get("fallback"):
            con.print(f"[yellow]fallback[/] {r['op']} {r['impl']}: {r['fallback']}")
    return rows, not bad


def cmd_ops(args: argparse.Namespace) -> int:
    con = _console()
    pk = peaks(args.device, remeasure=args.remeasure_peaks)
    fp = _device_header(con, args.device, pk)
    t0 = time.perf_counter()
    rows, ok = run_ops(OpsRun.from_args(args), con, pk)
    out = Path(args.out)
    stem = f"ops_{slug(fp)}{'_quick' if args.quick else ''}"
    paths = _write(
        out,
        stem,
        {
            "command": "ops",
            "fingerprint": fp,
            "peaks": pk.as_dict(),
            "quick": args.quick,
            "seconds": time.perf_counter() - t0,
            "rows": rows,
        },
        rows,
    )
    png = report.plot_op_speedups(out / f"{stem}.png", rows, fp["device"])
    con.print("wrote " + ", ".join(str(p) for p in paths + ([png] if png else [])))
    if not ok:
        con.print("[red]some results were wrong (column ok)[/]")
    return 0 if ok else 1


def _model(spec: str, scale: int) -> tuple[str, torch.nn.Module]:
    if spec.endswith(".json"):  # a genotype, as srkit-search exports and srkit train trains
        try:
            return Path(spec).stem, from_genotype(spec, scale)
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise UsageError(f"{spec}: not a genotype srkit can build ({e})") from e
    if Path(spec).is_file() or spec in hub.OFFICIAL:  # a file, or an official checkpoint by name
        try:
            m = load(spec, scale=scale)
        except CheckpointError as e:
            raise UsageError(f"{e}") from e
        return Path(spec).stem, m
    if Path(spec).suffix in (".pth", ".pt", ".safetensors", ".ckpt") or "/" in spec:
        raise UsageError(f"{spec}: no such checkpoint file")
    try:
        return spec, create_model(spec, scale=scale)
    except (KeyError, ValueError, TypeError) as e:
        raise UsageError(f"{e.args[0] if e.args else e}") from e


@dataclasses.dataclass(frozen=True)
class ModelsRun:
    """What ``srkit-bench model`` times, typed once from the command line (or built directly)."""

    device: str
    names: tuple[str, ...]
    scale: int = 4
    batch: int = 1
    inputs: tuple[tuple[int, int], ...] = (modelbench.RESOLUTIONS["720p"],)
    variants: tuple[str, ...] = tuple(modelbench.VARIANTS)
    dtypes: tuple[str, ...] | None = None  # None: fp32 on the CPU, fp32 and fp16 on a GPU
    channels_last: str = "no"  # no | yes | both
    graphs: bool = True  # CUDA-graph rows on a GPU
    breakdown: bool = True
    reps: int = 20
    max_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not self.names:
            raise UsageError("name a model (or a checkpoint file), or --all")

    @classmethod
    def from_args(cls, a: argparse.Namespace) -> ModelsRun:
        names = tuple(list_models() if a.all else a.names)
        return cls(
            a.device,
            names,
            scale=a.scale,
            batch=a.batch,
            inputs=tuple(a.input),
            variants=tuple(a.variants),
            dtypes=_tuple(a.dtypes),
            channels_last=a.channels_last,
            graphs=not a.no_graphs,
            breakdown=a.breakdown,
            reps=a.reps,
            max_seconds=a.max_seconds,
        )


def _settings(run: ModelsRun) -> list[modelbench.Setting]:
    cuda = run.device.startswith("cuda")
    dtypes = [parse_dtype(d) for d in (run.dtypes or (["fp32", "fp16"] if cuda else ["fp32"]))]
    layouts = [False, True] if run.channels_last == "both" else [run.channels_last == "yes"]
    graphs = [False, True] if cuda and run.graphs else [False]
    out = []
    for dt in dtypes:
        for cl in layouts:
            for v in run.variants:
                if v == "ort":  # memory layout and graphs are ONNX Runtime's own business: one row per dtype
                    out += [modelbench.Setting(v, dt)] if cl == layouts[0] else []
                else:
                    out += [modelbench.Setting(v, dt, cl, g) for g in graphs]
    return out


def run_models(run: ModelsRun, con: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    settings = _settings(run)
    rows: list[dict[str, Any]] = []
    layers: list[dict[str, Any]] = []
    dev = torch.device(run.device)
    with _progress(len(run.names) * len(run.inputs) * len(settings), "models") as step:
        for spec in run.names:
            name, model = _model(spec, run.scale)
            if hasattr(model, "fold_weight_norm"):
                model.fold_weight_norm()  # inference weights, as deployed
            for hw in run.inputs:
                lr = modelbench.lr_size(hw, int(model.scale), model)
                x = torch.rand(run.batch, int(getattr(model, "in_channels", 3)), *lr, device=dev, generator=None)
                rows += modelbench.bench_model(
                    model, name, x, settings, reps=run.reps, max_seconds=run.max_seconds, progress=step
                )
                if run.breakdown:
                    dt = settings[0].dtype
                    for r in modelbench.breakdown(model, x, dt, variant="srkit", reps=3):
                        layers.append({"model": name, "out_hw": list(hw), "dtype": dtype_name(dt)} | r)
            del model
    con.print(report.table(f"models on {run.device} (x{run.scale}, batch {run.batch})", rows, MODEL_COLUMNS))
    _print_layers(con, layers)
    return rows, layers


def _print_layers(con: Any, layers: list[dict[str, Any]]) -> None:
    for name in dict.fromkeys(r["model"] for r in layers):
        mine = [r for r in layers if r["model"] == name]
        con.print(
            report.table(
                f"where {name}'s forward spends its time (srkit path, {mine[0]['dtype']}, "
                f"{'x'.join(map(str, mine[0]['out_hw']))} output)",
                mine,
                LAYER_COLUMNS,
            )
        )


def cmd_model(args: argparse.Namespace) -> int:
    con = _console()
    pk = peaks(args.device, remeasure=args.remeasure_peaks)
    fp = _device_header(con, args.device, pk)
    t0 = time.perf_counter()
    rows, layers = run_models(ModelsRun.from_args(args), con)
    out = Path(args.out)
    stem = f"model_{slug(fp)}"
    paths = _write(
        out,
        stem,
        {
            "command": "model",
            "timing_method": modelbench.TIMING_METHOD,
            "fingerprint": fp,
            "peaks": pk.as_dict(),
            "scale": args.scale,
            "batch": args.batch,
            "seconds": time.perf_counter() - t0,
            "rows": rows,
            "layers": layers,
        },
        rows,
    )
    if layers:
        paths.append(report.write_csv(out / f"{stem}_layers.csv", layers))
    png = report.plot_model_latency(out / f"{stem}.png", rows, fp["device"])
    con.print("wrote " + ", ".join(str(p) for p in paths + ([png] if png else [])))
    return 1 if any("error" in r for r in rows) else 0


def cmd_lut(args: argparse.Namespace) -> int:
    con = _console()
    fp = fingerprint(args.device)
    con.print(f"[bold]{fp['device']}[/] ({args.device}): building the latency table")
    specs = tuple(BlockSpec.from_dict(d) for d in args.blocks) if args.blocks else lutmod.Grid().specs
    grid = lutmod.Grid(tuple(args.widths), tuple(args.sizes), tuple(args.scales), specs, tuple(args.upsamplers))
    t0 = time.perf_counter()
    items = grid.items()
    with _progress(len(items), "lut") as step:
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
    """``--validate N``: N random BlockNets measured whole against the table's prediction."""
    checks = lutmod.validate(table, args.device, lutmod.sample_archs(grid, args.validate), reps=args.reps)
    errs = [abs(r["relative_error"]) for r in checks]
    con.print(
        report.table(
            "the table's predictions against whole-model measurements",
            checks,
            [
                ("c", "channels", ""),
                ("x", "scale", ""),
                ("blocks", "blocks", ""),
                ("upsampler", "upsampler", ""),
                ("predicted ms", "predicted_ms", ".3f"),
                ("measured ms", "measured_ms", ".3f"),
                ("error", "relative_error", "+.1%"),
            ],
        )
    )
    con.print(f"mean |error| {sum(errs) / len(errs):.1%}, max {max(errs):.1%}")
    report.write_json(
        path,
        {
            "fingerprint": fp,
            "rows": checks,
            "mean_abs_relative_error": sum(errs) / len(errs),
            "max_abs_relative_error": max(errs),
        },
    )


def cmd_default(args: argparse.Namespace) -> int:
    """The quick tour: ops (quick), then IMDN x4 at a small output, without torch.compile on the CPU."""
    con = _console()
    pk = peaks(args.device, remeasure=args.remeasure_peaks)
    fp = _device_header(con, args.device, pk)
    t0 = time.perf_counter()
    cpu = not args.device.startswith("cuda")
    common = {"reps": args.reps, "max_seconds": args.max_seconds}
    op_rows, ok = run_ops(OpsRun(args.device, quick=cpu, **common), con, pk)
    tour = ModelsRun(
        args.device,
        ("imdn",),
        inputs=(modelbench.RESOLUTIONS["360p" if cpu else "1080p"],),
        variants=("eager", "srkit") if cpu else tuple(modelbench.VARIANTS),
        **common,
    )
    model_rows, layers = run_models(tour, con)
    out = Path(args.out)
    stem = f"bench_{slug(fp)}"
    record = {
        "command": "default",
        "fingerprint": fp,
        "peaks": pk.as_dict(),
        "seconds": time.perf_counter() - t0,
        "ops": op_rows,
        "models": model_rows,
        "layers": layers,
    }
    paths = [
        report.write_json(out / f"{stem}.json", record),
        report.write_csv(out / f"{stem}_ops.csv", op_rows),
        report.write_csv(out / f"{stem}_models.csv", model_rows),
    ]
    png = report.plot_op_speedups(out / f"{stem}_ops.png", op_rows, fp["device"])
    con.print(
        "wrote " + ", ".join(str(p) for p in paths + ([png] if png else [])) + f" in {time.perf_counter() - t0:.0f} s"
    )
    return 0 if ok and not any("error" in r for r in model_rows) else 1


def _common(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The options every command takes, before or after its name. A subcommand's copy has no
    defaults (argparse.SUPPRESS), so ``srkit-bench --out X model`` keeps the X given before it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if sub else value

    p.add_argument("--device", type=device, default=default("cuda" if torch.cuda.is_available() else "cpu"))
    p.add_argument("--out", default=default("runs/bench"), help="folder for JSON, CSV and PNG (default runs/bench)")
    p.add_argument(
        "--reps", type=count(1), default=default(OpsRun.reps), help="timed repetitions per row (after 3 warm-up calls)"
    )
    p.add_argument(
        "--max-seconds",
        type=number(0.0, above=True),
        default=default(OpsRun.max_seconds),
        help="stop repeating a row after this long (at least 3 reps)",
    )
    p.add_argument(
        "--remeasure-peaks",
        action="store_true",
        default=default(False),
        help="measure bandwidth and matmul peaks again (else cached)",
    )
    p.add_argument("-v", "--verbose", action="store_true", default=default(False), help="log backend choices")


def _block(text: str) -> dict[str, Any]:
    import yaml

    try:
        d = yaml.safe_load(text)
        BlockSpec.from_dict(d)
    except (ValueError, TypeError, yaml.YAMLError) as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from e
    return d


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="srkit-bench",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    _common(p)
    sub = p.add_subparsers(dest="command")
    _ops_parser(sub)
    _model_parser(sub)
    _lut_parser(sub)
    bench_ntire.add_parser(sub, _common)
    p.set_defaults(func=cmd_default)
    return p


def _ops_parser(sub: Any) -> None:
    o = sub.add_parser("ops", help="every op x implementation x shape x dtype")
    _common(o, sub=True)
    o.add_argument(
        "--only",
        nargs="+",
        choices=opcases.NAMES,
        help="these ops (any registered op by its name; an op of a block runs its block's case) or cases",
    )
    o.add_argument("--quick", action="store_true", help="fewer shapes; no torch.compile unless --compile")
    o.add_argument("--compile", dest="compile", action="store_true", default=None, help="include torch.compile rows")
    o.add_argument("--no-compile", dest="compile", action="store_false", help="leave out torch.compile rows")
    o.add_argument(
        "--backends",
        nargs="+",
        choices=("triton", "cuda", "cpp", "torch"),
        help="srkit backends to time (default: all that run here)",
    )
    o.set_defaults(func=cmd_ops)


def _model_parser(sub: Any) -> None:
    m = sub.add_parser("model", help="end-to-end model latency with a per-layer breakdown")
    _common(m, sub=True)
    m.add_argument(
        "names", nargs="*", help="zoo names (random weights), checkpoint files, or genotype JSON files (srkit-search)"
    )
    m.add_argument("--all", action="store_true", help="every zoo model")
    m.add_argument("--scale", type=count(1), default=ModelsRun.scale)
    m.add_argument(
        "--input",
        nargs="+",
        type=size_hw,
        default=list(ModelsRun.inputs),
        help="output resolution(s): 360p 540p 720p 1080p 4k or HxW (LR = output / scale)",
    )
    m.add_argument("--batch", type=count(1), default=ModelsRun.batch)
    m.add_argument("--dtypes", nargs="+", choices=("fp32", "fp16", "bf16"), help="default: fp32 (CPU), fp32 fp16 (GPU)")
    m.add_argument("--channels-last", choices=("no", "yes", "both"), default=ModelsRun.channels_last)
    m.add_argument(
        "--variants",
        nargs="+",
        choices=modelbench.ALL_VARIANTS,
        default=list(ModelsRun.variants),
        help="eager, compile, srkit (default: all three) and ort (ONNX Runtime; pip install 'srkit[onnx]')",
    )
    m.add_argument("--no-graphs", action="store_true", help="no CUDA-graph rows on a GPU")
    m.add_argument("--no-breakdown", dest="breakdown", action="store_false", help="skip the per-layer breakdown")
    m.set_defaults(func=cmd_model)


def _lut_parser(sub: Any) -> None:
    t = sub.add_parser("lut", help="the latency table srkit-search consumes")
    _common(t, sub=True)
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
    t.set_defaults(func=cmd_lut)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return run_cli("srkit-bench", lambda: int(args.func(args) or 0))


if __name__ == "__main__":
    sys.exit(main())
