"""What ``srkit-bench`` writes: a terminal table, JSON (rows + fingerprint + peaks), CSV and PNG plots."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import atomic


def write_json(path: Path, record: dict[str, Any]) -> Path:
    atomic.write_json(path, record)
    return path


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(
            {
                k: ("x".join(map(str, v)) if isinstance(v, list) and all(isinstance(i, int) for i in v) else v)
                for k, v in r.items()
            }
        )
    atomic.write_bytes(path, buf.getvalue().encode())
    return path


def fmt(v: Any, spec: str = ".3f") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return format(v, spec)
    if isinstance(v, list):
        return "x".join(map(str, v))
    return str(v)


def table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]) -> Any:
    """A rich Table: ``columns`` are (header, row key, format spec)."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for header, _, _ in columns:
        t.add_column(
            header,
            justify="left"
            if header in ("op", "impl", "ran", "shape", "model", "variant", "layer", "entry")
            else "right",
            overflow="fold",
        )
    for r in rows:
        cells = []
        for _, key, spec in columns:
            v = r.get(key)
            if key == "correct":
                cells.append("yes" if v else "[red]NO[/]")
            elif key == "backend_ran" and r.get("fallback"):
                cells.append(f"[yellow]{v} (fallback)[/]")
            elif key == "error" and v:
                cells.append(f"[red]{v}[/]")
            else:
                cells.append(fmt(v, spec))
        t.add_row(*cells)
    return t


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Lay out, render to PNG and write atomically; the figure is closed."""
    plt = pyplot()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    atomic.write_bytes(path, buf.getvalue())
    return path


def plot_op_speedups(path: Path, rows: Sequence[dict[str, Any]], device: str) -> Path | None:
    """Speed-up over PyTorch eager per op case and implementation (log scale)."""
    pts = [r for r in rows if r.get("speedup_vs_eager") and r["impl"] != "torch-eager"]
    if not pts:
        return None
    plt = pyplot()
    cases = list(dict.fromkeys(f"{r['op']}\n{fmt(r['shape'])} {r['dtype']}" for r in pts))
    impls = list(dict.fromkeys(r["impl"] for r in pts))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(cases)), 4.0))
    width = 0.8 / max(1, len(impls))
    for j, impl in enumerate(impls):
        xs, ys = [], []
        for i, c in enumerate(cases):
            r = next((r for r in pts if r["impl"] == impl and f"{r['op']}\n{fmt(r['shape'])} {r['dtype']}" == c), None)
            if r:
                xs.append(i + (j - (len(impls) - 1) / 2) * width)
                ys.append(r["speedup_vs_eager"])
        ax.bar(xs, ys, width, label=impl)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(cases)), cases, fontsize=7)
    ax.set_ylabel("speed-up over PyTorch eager")
    ax.set_title(f"srkit ops on {device}")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_model_latency(path: Path, rows: Sequence[dict[str, Any]], device: str) -> Path | None:
    """Latency against output resolution, one line per model and variant."""
    pts = [r for r in rows if "median_ms" in r]
    if not pts:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    groups: dict[str, list[tuple[int, float]]] = {}
    for r in pts:
        label = f"{r['model']} {r['variant']} {r['dtype']}{' cl' if r['channels_last'] else ''}"
        groups.setdefault(label, []).append((r["out_hw"][0] * r["out_hw"][1] * r["batch"], r["median_ms"]))
    for label, xy in groups.items():
        xy.sort()
        ax.plot([p / 1e6 for p, _ in xy], [t for _, t in xy], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("output megapixels per batch")
    ax.set_ylabel("median latency (ms)")
    ax.set_title(f"model latency on {device}")
    ax.legend(fontsize=6)
    return save_figure(fig, path)
