"""``srkit-bench ntire MODEL ...``: the NTIRE efficient-SR challenge's report (srkit.profiler.ntire)
for each model and a baseline, on one device: parameters, FLOPs at a 256x256 LR input, runtime by
the challenge's protocol, PSNR (RGB, ``scale`` pixels shaved, as the challenge scores; Y as the
papers do beside it), and the NTIRE 2024 score against the baseline."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...data.color import rgb2ycbcr
from ...evaluate import dataset
from ...inference import Upscaler
from ...metrics import psnr
from ...metrics.protocol import sr_scores
from ...models.base import pad_input
from ...models.hub import OFFICIAL
from ...profiler import ntire, report
from ...profiler.device import fingerprint, slug
from ..args import count
from ..errors import UsageError
from .common import console
from .model import resolve_model

COLUMNS = [
    ("model", "model", ""),
    ("params M", "params_M", ".3f"),
    ("FLOPs G", "flops_G", ".2f"),
    ("runtime ms", "runtime_ms", ".2f"),
    ("min", "runtime_min_ms", ".2f"),
    ("max", "runtime_max_ms", ".2f"),
    ("PSNR RGB", "psnr_rgb", ".2f"),
    ("PSNR Y", "psnr_y", ".2f"),
    ("score", "score", ".4f"),
]


def _input(lr: torch.Tensor, model: nn.Module, device: str) -> torch.Tensor:
    """The LR image as the model takes it: float [0, 1], its channels (Y for a luma model), padded."""
    x = lr[None].float().div(255)
    if int(getattr(model, "in_channels", 3)) == 1 and x.shape[1] == 3:
        x = rgb2ycbcr(x)[:, :1]
    return pad_input(model, x.to(device))


def _quality(model: nn.Module, images: list[tuple[str, torch.Tensor, torch.Tensor]], scale: int, device: str) -> dict:
    up = Upscaler(model, device=device)
    rgb, y = [], []
    for _, hr, lr in images:
        sr = up(lr)
        rgb.append(float(psnr(sr[None], hr[None], shave=scale)[0]))
        y.append(float(sr_scores(sr[None], hr[None], scale)[0][0]))
    return {"psnr_rgb": statistics.fmean(rgb), "psnr_y": statistics.fmean(y)}


def _row(name: str, model: nn.Module, timed: ntire.Timed, convention: str) -> dict[str, Any]:
    n, flops = ntire.params(model), ntire.count_flops(model, convention)
    return {
        "model": name,
        "params": n,
        "params_M": n / 1e6,
        "flops": flops,
        "flops_G": flops / 1e9,
        "runtime_ms": timed.mean_ms,
        "runtime_min_ms": min(timed.runs_ms),
        "runtime_max_ms": max(timed.runs_ms),
        "runs_ms": timed.runs_ms,
        "warmup_ms": timed.warmup_ms,
    }


def run(args: argparse.Namespace) -> int:
    con = console()
    specs = [args.baseline, *[m for m in args.models if m != args.baseline]]
    models, untrained = {}, set()
    for spec in specs:
        name, model = resolve_model(spec, args.scale)
        models[name] = model.eval().to(args.device)
        if not (Path(spec).is_file() or spec in OFFICIAL):  # a zoo name: random weights
            untrained.add(name)
    images = list(dataset(args.data, args.scale))
    if not images:
        raise UsageError(f"--data {args.data}: no images")
    inputs = {n: [_input(lr, m, args.device) for _, _, lr in images] for n, m in models.items()}
    con.print(f"timing {len(models)} models x {len(images)} images x {args.runs} interleaved runs on {args.device}")
    timed = ntire.runtimes(models, inputs, args.device, args.runs)
    rows = [
        {
            **_row(n, m, timed[n], args.flops),
            **_quality(m, images, args.scale, args.device),
            "trained": n not in untrained,
        }
        for n, m in models.items()
    ]
    base = rows[0]
    rows = [{**r, **ntire.score(r, base)} for r in rows]
    _print(con, rows, args)
    return _record(args, rows, len(images))


def _print(con: Any, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    from rich.table import Table

    t = Table(title=f"NTIRE report x{args.scale}, FLOPs ({args.flops}) at 3x256x256, baseline {rows[0]['model']}")
    for head, _, _ in COLUMNS:
        t.add_column(head, justify="left" if head == "model" else "right")
    for r in rows:
        t.add_row(*[format(r[k], f) if f else str(r[k]) for _, k, f in COLUMNS])
    con.print(t)
    if not all(r["trained"] for r in rows):
        said = ", ".join(r["model"] for r in rows if not r["trained"])
        con.print(f"untrained (zoo names, random weights): {said}; their PSNR says nothing, their cost is real")
    con.print(f"score: {ntire.SOURCE}; runtime is the mean of {args.runs} runs, each the mean over the images")


def _record(args: argparse.Namespace, rows: list[dict[str, Any]], n_images: int) -> int:
    fp = fingerprint(args.device)
    out = Path(args.out)
    stem = f"ntire_{slug(fp)}"
    record = {
        "command": "ntire",
        "fingerprint": fp,
        "scale": args.scale,
        "data": args.data,
        "images": n_images,
        "runs": args.runs,
        "flops_convention": args.flops,
        "flops_input": [3, ntire.LR_SIDE, ntire.LR_SIDE],
        "score_source": ntire.SOURCE,
        "rows": rows,
    }
    report.write_json(out / f"{stem}.json", record)
    report.write_csv(out / f"{stem}.csv", [{k: v for k, v in r.items() if k != "runs_ms"} for r in rows])
    print(f"wrote {out / stem}.json and .csv")
    return 0


def add_parser(sub: Any) -> None:
    from .common import options

    n = sub.add_parser("ntire", help="the NTIRE efficient-SR report: params, FLOPs, runtime, PSNR, score")
    options(n, sub=True)
    n.add_argument("models", nargs="+", help="official names (srkit weights), checkpoint files or zoo names")
    n.add_argument(
        "--baseline",
        default="rlfn_ntire_x4",
        help="the model the score compares against (default: RLFN as in NTIRE 2022, NTIRE 2024's baseline)",
    )
    n.add_argument("--data", default="skimage", help="HR folder(s) or 'skimage' (the challenge used DIV2K/LSDIR valid)")
    n.add_argument("--scale", type=count(1), default=4)
    n.add_argument("--runs", type=count(1), default=5, help="interleaved timing runs (the challenge averages five)")
    n.add_argument("--flops", choices=ntire.CONVENTIONS, default="fvcore", help="fvcore: NTIRE 2024; ntire22: 2022")
    n.set_defaults(func=run)
