"""``python -m srkit.demo runs/demo``: the demo's one figure, from the files ``make demo`` wrote.

Three panels: the upscaled crops beside bicubic and the original with their PSNR (``srkit
compare``), the model's latency under each runtime on this device (``srkit-bench model``), and the
search's Pareto plot with its verdict as the search itself recorded it (``srkit-search``). A panel
whose files are missing says so instead of being left out silently.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .profiler.report import pyplot, save_figure


def _image(ax: Any, png: Path, title: str) -> None:
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    if png.is_file():
        ax.imshow(pyplot().imread(png))
    else:
        ax.text(0.5, 0.5, f"missing: {png}", ha="center", va="center", fontsize=8)


def _speed(ax: Any, folder: Path) -> None:
    """Median latency per runtime, with the backend that ran, from the newest model_*.json."""
    files = sorted(folder.glob("model_*.json"), key=lambda p: p.stat().st_mtime)
    rows = [r for r in json.loads(files[-1].read_text())["rows"] if "median_ms" in r] if files else []
    if not rows:
        ax.axis("off")
        ax.text(0.5, 0.5, f"no srkit-bench model record in {folder}", ha="center", va="center", fontsize=8)
        return
    labels = [f"{r['variant']}\n({r.get('backend_ran', '')})" for r in rows]
    ax.barh(labels, [r["median_ms"] for r in rows], color="tab:blue")
    r0 = rows[0]
    ax.set_xlabel(f"median ms, LR {r0['out_hw'][0] // r0['scale']}x{r0['out_hw'][1] // r0['scale']}", fontsize=8)
    ax.set_title(f"{r0['model']} on this device, by runtime", fontsize=9)
    ax.tick_params(labelsize=7)


def _verdict(search: Path) -> str:
    front = search / "front.json"
    if not front.is_file():
        return "the search wrote no front.json"
    comparison = json.loads(front.read_text()).get("comparison")
    if not comparison:
        return "the search retrained nothing: no verdict"
    return (
        f"a found network dominates two or more baselines: {comparison['one_found_dominates_two']}; "
        f"the found front covers the baselines' front: {comparison['front_dominates_baseline_front']}"
    )


def figure(folder: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2), gridspec_kw={"width_ratios": [1.4, 0.8, 1.0]})
    compares = sorted(folder.glob("compare_*.png"))
    _image(axes[0], compares[0] if compares else folder / "compare_skimage_x4.png", "bicubic | srkit | original")
    _speed(axes[1], folder)
    verdict = _verdict(folder / "search").replace("; ", ";\n")
    _image(axes[2], folder / "search" / "pareto.png", f"the search's Pareto plot (quick budget)\n{verdict}")
    return save_figure(fig, folder / "demo.png")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "runs/demo")
    if not folder.is_dir():
        print(f"srkit.demo: {folder} is not a folder (run make demo first)", file=sys.stderr)
        return 2
    print(f"wrote {figure(folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
