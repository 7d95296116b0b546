"""Check and time every op of srkit in one call; print a table and write the JSON record.

    python bench/run_all.py [--device cpu|cuda] [--quick] [--out bench/results]

Each row says which backend actually ran, whether its result was right (against the float64 /
PyTorch references the tests use), median and spread of its time, bytes per second, the fraction
of the device's measured copy bandwidth, and its speed-up over the row group's baseline (the
first row of each op: PyTorch eager, BasicSR's per-image loop, or scikit-image).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `bench` and `tests` (the baselines) import as packages

import torch  # noqa: E402

from bench import (  # noqa: E402
    bench_channel_attention,
    bench_pixel_shuffle,
    bench_psnr,
    bench_ssim,
    bench_upsample_tail,
    bench_wide_activation,
)
from bench.common import fingerprint, measured_bandwidth_gbs  # noqa: E402
from srkit import atomic  # noqa: E402

BENCHES = {
    "pixel_shuffle": bench_pixel_shuffle, "upsample_tail": bench_upsample_tail, "psnr": bench_psnr, "ssim": bench_ssim,
    "cca": bench_channel_attention, "wdsr_b": bench_wide_activation,
}


def goals(rows: list[dict], device: str) -> list[dict]:
    """The issue's speed goals that this device can speak to, each with the measured value."""
    def find(op: str, impl: str) -> dict | None:
        return next((r for r in rows if r["op"] == op and r["impl"] == impl), None)

    out = []
    if device == "cpu":
        r = find("psnr+ssim", "srkit-cpp")
        if r:
            out.append({"goal": "C++ batched PSNR+SSIM >= 5x a scikit-image loop (8 x 512x512)", "measured": r["speedup_vs_baseline"], "met": r["speedup_vs_baseline"] >= 5})
    else:
        b = "srkit-triton"
        r = find("psnr", b)
        if r:
            out.append({"goal": "batched PSNR, 16 x 4K: >= 80% of measured bandwidth", "measured": r["fraction_of_bandwidth"], "met": r["fraction_of_bandwidth"] >= 0.8})
            out.append({"goal": "batched PSNR >= 10x the per-image torch reference", "measured": r["speedup_vs_baseline"], "met": r["speedup_vs_baseline"] >= 10})
        r = find("cca", b)
        if r:
            out.append({"goal": "CCA >= 75% of measured bandwidth", "measured": r["fraction_of_bandwidth"], "met": r["fraction_of_bandwidth"] >= 0.75})
            out.append({"goal": "CCA >= 3x eager", "measured": r["speedup_vs_baseline"], "met": r["speedup_vs_baseline"] >= 3})
        wb = [r for r in rows if r["op"] == "wdsr_b" and r["shape"] == [16, 32, 360, 640]]
        ours = next((r for r in wb if r["impl"] == b), None)
        comp = next((r for r in wb if r["impl"] == "torch-compile"), None)
        if ours:
            out.append({"goal": "WDSR-B (16,32,360,640) bf16 >= 6x eager", "measured": ours["speedup_vs_baseline"], "met": ours["speedup_vs_baseline"] >= 6})
            if comp:
                ratio = comp["median_ms"] / ours["median_ms"]
                out.append({"goal": "WDSR-B >= 2x torch.compile", "measured": ratio, "met": ratio >= 2})
        t, c = find("upsample_tail", b), find("upsample_tail", "copy-of-output")
        if t and c:
            ratio = t["median_ms"] / c["median_ms"]
            out.append({"goal": "fused tail within 10% of a plain copy of its output", "measured": ratio, "met": ratio <= 1.1})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--quick", action="store_true", help="fewer shapes, no torch.compile baselines")
    p.add_argument("--only", nargs="*", choices=list(BENCHES), help="run these ops only")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    con = Console(width=200)
    t0 = time.perf_counter()
    bw = measured_bandwidth_gbs(args.device)
    con.print(f"[bold]{fingerprint(args.device)['device']}[/]: measured copy bandwidth {bw:.1f} GB/s")
    rows: list[dict] = []
    for name, mod in BENCHES.items():
        if args.only and name not in args.only:
            continue
        con.print(f"timing {name} ...")
        rows += mod.run(args.device, args.quick, bw)
    table = Table(title=f"srkit ops on {args.device}")
    for col in ("op", "impl", "ran", "shape", "dtype", "median ms", "p10-p90", "GB/s", "% bw", "speed-up", "ok"):
        table.add_column(col, justify="right" if col not in ("op", "impl", "ran", "shape") else "left")
    for r in rows:
        table.add_row(r["op"], r["impl"], r["backend_ran"], "x".join(map(str, r["shape"])), r["dtype"], f"{r['median_ms']:.3f}",
                      f"{r['p10_ms']:.2f}-{r['p90_ms']:.2f}", f"{r['GB/s']:.1f}", f"{100 * r['fraction_of_bandwidth']:.0f}",
                      f"{r['speedup_vs_baseline']:.2f}x", "yes" if r["correct"] else "[red]NO[/]")
    con.print(table)
    g = goals(rows, args.device)
    for item in g:
        con.print(f"goal: {item['goal']}: measured {item['measured']:.2f} -> {'met' if item['met'] else '[red]not met[/]'}")
    record = {"fingerprint": fingerprint(args.device), "measured_bandwidth_GBps": bw, "quick": args.quick,
              "seconds": time.perf_counter() - t0, "rows": rows, "goals": g}
    slug = "".join(ch if ch.isalnum() else "-" for ch in record["fingerprint"]["device"].lower()).strip("-")
    path = Path(args.out) / f"ops_{args.device}_{slug}{'_quick' if args.quick else ''}.json"
    atomic.write_json(path, record)
    con.print(f"wrote {path}")
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
