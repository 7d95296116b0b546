"""``srkit compare``: rank several models on a dataset and draw a side-by-side crop grid."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import torch

from .. import atomic
from ..data.degrade import bicubic_sr
from ..evaluate import ImageScore, dataset, summary
from ..metrics.protocol import sr_scores
from .args import count
from .errors import UsageError
from .eval import PROTOCOL
from .modelspec import add_model_args, backend_context, resolve


def crop_box(h: int, w: int, size: int) -> tuple[int, int, int]:
    """(top, left, side) of a centred square crop of at most ``size`` pixels."""
    side = min(size, h, w)
    return (h - side) // 2, (w - side) // 2, side


def draw_grid(path: Path, rows: list[tuple[str, list[tuple[str, torch.Tensor]]]]) -> None:
    """One row per image, one column per method (each an HWC-able uint8 crop)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), cols, figsize=(2.2 * cols, 2.4 * len(rows)), squeeze=False)
    for r, (name, panels) in enumerate(rows):
        for c, (title, img) in enumerate(panels):
            ax = axes[r][c]
            arr = img.permute(1, 2, 0).numpy()
            ax.imshow(
                arr[:, :, 0] if arr.shape[2] == 1 else arr,
                cmap="gray" if arr.shape[2] == 1 else None,
                interpolation="nearest",
            )
            ax.set_title(title, fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    plt.close(fig)
    atomic.write_bytes(path, buf.getvalue())


def run(args: argparse.Namespace) -> int:
    _refuse_existing(args)
    specs = [resolve(m, args.scale, args) for m in args.models]
    labels = [label for label, _, _ in specs]
    if len(set(labels)) != len(labels):
        raise UsageError(f"two models have the same label {labels}; label them NAME=PATH")
    per_model: dict[str, list[ImageScore]] = {label: [] for label in labels}
    grid: list[tuple[str, list[tuple[str, torch.Tensor]]]] = []
    s = args.scale
    with backend_context(args.backend):
        for i, (name, hr, lr) in enumerate(dataset(args.data, s)):
            srs = {label: up(lr[None], s)[0] for label, up, _ in specs}
            for label, sr in srs.items():  # the SR images are kept for the grid
                p, q = sr_scores(sr[None], hr[None], s)
                per_model[label].append(ImageScore(name, float(p[0]), float(q[0])))
            if i < args.grid_images:
                top, left, side = crop_box(hr.shape[1], hr.shape[2], args.crop)
                sl = (slice(None), slice(top, top + side), slice(left, left + side))
                lr_crop = lr[:, top // s : (top + side) // s, left // s : (left + side) // s]
                panels = [("LR (nearest)", lr_crop.repeat_interleave(s, 1).repeat_interleave(s, 2))]
                if all(up is not bicubic_sr for _, up, _ in specs):
                    panels.append(("bicubic", bicubic_sr(lr[None], s)[0][sl]))
                panels += [(f"{label} {per_model[label][-1].psnr:.2f} dB", sr[sl]) for label, sr in srs.items()]
                panels.append(("HR", hr[sl]))
                grid.append((name, panels))
    table = [{"model": label, **summary(per_model[label])} for label in labels]
    table.sort(key=lambda r: -float(r["mean_psnr"]))  # type: ignore[arg-type]
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"x{s} on {args.data} ({PROTOCOL})")
    for col in ("rank", "model", "PSNR (dB)", "SSIM"):
        t.add_column(col, justify="right" if col != "model" else "left")
    for rank, r in enumerate(table, 1):
        t.add_row(str(rank), r["model"], f"{r['mean_psnr']:.3f}", f"{r['mean_ssim']:.4f}")
    Console().print(t)
    js, png = _outputs(args)
    atomic.write_json(js, {"data": args.data, "scale": s, "protocol": PROTOCOL, "ranking": table})
    if grid:
        draw_grid(png, grid)
    print(f"wrote {js}" + (f" and {png}" if grid else ""))
    return 0


def _outputs(args: argparse.Namespace) -> tuple[Path, Path]:
    """``compare_<data>_x<s>.json`` and ``.png`` in --out (one comparison per dataset and scale)."""
    stem = "compare_" + "+".join(Path(d).name for d in str(args.data).split(os.pathsep)) + f"_x{args.scale}"
    return Path(args.out) / f"{stem}.json", Path(args.out) / f"{stem}.png"


def _refuse_existing(args: argparse.Namespace) -> None:
    """An earlier comparison is never replaced unasked (checked before any model runs)."""
    js, _ = _outputs(args)
    if js.exists() and not args.overwrite:
        raise UsageError(f"{js} exists: pass --overwrite to replace it (or another --out)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="rank models on a dataset; side-by-side crop grid as PNG")
    p.add_argument("--data", default="skimage", help="dataset folder (HR/ [+ LR_bicubic/X<s>/]) or 'skimage'")
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4, 8))
    p.add_argument("--out", required=True, help="folder for compare_<data>_x<s>.json and .png")
    p.add_argument("--overwrite", action="store_true", help="replace a comparison already in --out")
    p.add_argument("--crop", type=count(8), default=96, help="HR crop side for the grid")
    p.add_argument("--grid-images", type=count(1), default=3, help="images drawn in the grid")
    add_model_args(p, multiple=True)
    p.set_defaults(func=run)
