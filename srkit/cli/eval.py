"""``srkit eval``: Y-PSNR/SSIM of a model on a dataset under the standard protocol."""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import time
from pathlib import Path

import torch

from .. import __version__, atomic, ops
from ..evaluate import evaluate, summary, work_of
from .errors import UsageError
from .modelspec import add_model_args, backend_context, resolve

PROTOCOL = "MATLAB-bicubic LR; PSNR/SSIM on Y (BT.601), SR rounded to uint8, scale pixels shaved"


def run(args: argparse.Namespace) -> int:
    path = Path(args.out) / result_name(args) if args.out else None
    if path is not None and path.exists() and not args.overwrite:  # checked before any scoring
        raise UsageError(f"{path} exists: pass --overwrite to replace it")
    label, upscale, _ = resolve(args.model, args.scale, args, args.weights, work_of(args.data, args.scale))
    t0 = time.perf_counter()
    with backend_context(args.backend), ops.trace() as calls:
        scores = evaluate(upscale, args.data, args.scale)
    res = {
        "model": args.model,
        "label": label,
        "data": args.data,
        "scale": args.scale,
        "protocol": PROTOCOL,
        **summary(scores),
        "backends": sorted({f"{c.op}:{c.backend}" for c in calls}),
        "device": args.device,
        "dtype": args.dtype,
        "tile": args.tile,
        "seconds": time.perf_counter() - t0,
        "srkit": __version__,
        "torch": torch.__version__,
        "host": platform.node(),
    }
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{label} x{args.scale} on {args.data}")
    t.add_column("image")
    t.add_column("PSNR (dB)", justify="right")
    t.add_column("SSIM", justify="right")
    for s in scores:
        t.add_row(s.name, f"{s.psnr:.3f}", f"{s.ssim:.4f}")
    t.add_row("[bold]mean", f"[bold]{res['mean_psnr']:.3f}", f"[bold]{res['mean_ssim']:.4f}")
    Console().print(t)
    if res["backends"]:
        print("backends that ran: " + ", ".join(res["backends"]))
    if path is not None:
        atomic.write_json(path, res)
        print(f"wrote {path}")
    return 0


def result_name(args: argparse.Namespace) -> str:
    """``eval_<model>[-<sha256 of its file, 8 hex>]_<data>_x<s>.json``: what produced the result, so two
    runs' ``model.pth`` or two datasets scored into one folder keep a file each."""
    weights = args.weights or (args.model if Path(args.model).is_file() else None)
    tag = Path(args.model).stem if Path(args.model).suffix else args.model
    if weights is not None:
        tag += "-" + _digest(Path(weights))
    data = "+".join(Path(d).name for d in str(args.data).split(os.pathsep))
    return f"eval_{tag}_{data}_x{args.scale}.json"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:8]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="Y-PSNR/SSIM of a model on a dataset (standard SR protocol)")
    p.add_argument("--data", default="skimage", help="dataset folder (HR/ [+ LR_bicubic/X<s>/]) or 'skimage'")
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4, 8))
    p.add_argument("--out", help="folder for the JSON results (eval_<model>-<file hash>_<data>_x<s>.json)")
    p.add_argument("--overwrite", action="store_true", help="replace a result already in --out")
    add_model_args(p)
    p.set_defaults(func=run)
