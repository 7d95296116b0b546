"""``srkit-bench model``: end-to-end model latency in every setting, timed together in interleaved
rounds, with a per-layer breakdown."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from ...models import CheckpointError, create_model, from_genotype, hub, list_models, load
from ...profiler import modelbench, report
from ...profiler.device import dtype_name, parse_dtype, peaks, slug
from ..args import count, size_hw
from ..errors import UsageError
from .common import MAX_SECONDS, REPS, as_tuple, console, device_header, options, progress, write

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


def resolve_model(spec: str, scale: int) -> tuple[str, torch.nn.Module]:
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
    reps: int = REPS
    max_seconds: float = MAX_SECONDS

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
            dtypes=as_tuple(a.dtypes),
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
    with progress(len(run.names) * len(run.inputs) * len(settings), "models") as step:
        for spec in run.names:
            name, model = resolve_model(spec, run.scale)
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


def run(args: argparse.Namespace) -> int:
    con = console()
    pk = peaks(args.device, remeasure=args.remeasure_peaks)
    fp = device_header(con, args.device, pk)
    t0 = time.perf_counter()
    rows, layers = run_models(ModelsRun.from_args(args), con)
    out = Path(args.out)
    stem = f"model_{slug(fp)}"
    paths = write(
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


def add_parser(sub: Any) -> None:
    m = sub.add_parser("model", help="end-to-end model latency with a per-layer breakdown")
    options(m, sub=True)
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
    m.set_defaults(func=run)
