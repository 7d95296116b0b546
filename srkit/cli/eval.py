"""``srkit eval``: Y-PSNR/SSIM of a model on a dataset under the standard protocol."""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from .. import __version__, atomic, ops
from ..evaluate import evaluate, summary
from .modelspec import add_model_args, backend_context, resolve

PROTOCOL = "MATLAB-bicubic LR; PSNR/SSIM on Y (BT.601), SR rounded to uint8, scale pixels shaved"


def run(args: argparse.Namespace) -> int:
    label, upscale, _ = resolve(args.model, args.scale, args, args.weights)
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
    if args.out:
        path = Path(args.out) / f"eval_{label}_x{args.scale}.json"
        atomic.write_json(path, res)
        print(f"wrote {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="Y-PSNR/SSIM of a model on a dataset (standard SR protocol)")
    p.add_argument("--data", default="skimage", help="dataset folder (HR/ [+ LR_bicubic/X<s>/]) or 'skimage'")
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4, 8))
    p.add_argument("--out", help="folder for the JSON results")
    add_model_args(p)
    p.set_defaults(func=run)
