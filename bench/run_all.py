"""Check and time every op and the issue's models in one call; print tables and the goals; write the JSON record.

    python bench/run_all.py [--device cpu|cuda] [--quick] [--only OP ...] [--no-models] [--weights DIR] [--out bench/results]

The op rows come from srkit-bench's runner (``srkit.profiler``) plus the outside baselines of each
``bench_<op>.py``; every row says which backend ran, whether its result matched float64, its
median and spread, GB/s, TFLOP/s and fraction of the roofline on the device's measured peaks.
The model rows are ``srkit-bench model`` for IMDN, RFDN, RLFN, SPAN and WDSR-B at x4 (1080p output
on a GPU), with the official weights when ``--weights`` names a folder holding them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `bench` imports as a package when this runs as a script

import torch  # noqa: E402

from bench import (  # noqa: E402
    bench_attention_scale,
    bench_cca,
    bench_conv_epilogue,
    bench_pixel_shuffle,
    bench_psnr,
    bench_ssim,
    bench_train_step,
    bench_upsample_tail,
    bench_wdsr,
)
from bench.common import ratio  # noqa: E402
from srkit import atomic  # noqa: E402
from srkit.cli.bench import MODEL_COLUMNS, OP_COLUMNS  # noqa: E402
from srkit.models import create_model, load  # noqa: E402
from srkit.profiler import modelbench, report  # noqa: E402
from srkit.profiler.device import fingerprint, peaks, slug  # noqa: E402

BENCHES = {
    "pixel_shuffle": bench_pixel_shuffle,
    "upsample_tail": bench_upsample_tail,
    "psnr": bench_psnr,
    "ssim": bench_ssim,
    "cca": bench_cca,
    "attention_scale": bench_attention_scale,
    "conv_epilogue": bench_conv_epilogue,
    "wdsr": bench_wdsr,
}
TRAIN_COLUMNS = [
    ("bench", "bench", ""),
    ("variant", "variant", ""),
    ("ran", "backend_ran", ""),
    ("dtype", "dtype", ""),
    ("median ms", "median_ms", ".2f"),
    ("items/s", "items_per_s", ".1f"),
    ("saved MiB", "saved_activation_MiB", ".1f"),
    ("peak MiB", "peak_step_MiB", ".1f"),
]
MODELS = {
    "imdn": "imdn_x4.pth",
    "rfdn": "rfdn_aim2020_x4.pth",
    "rlfn": "rlfn_x4.pth",
    "span": "span_ch28_ntire24_x4.pth",
    "wdsr_b": None,
}


def goals(rows: list[dict[str, Any]], model_rows: list[dict[str, Any]], device: str) -> list[dict[str, Any]]:
    """The issues' speed goals that this device can speak to, each with its measured value."""
    out: list[dict[str, Any]] = []

    def add(goal: str, value: float | None, ok: bool | None) -> None:
        if value is not None:
            out.append({"goal": goal, "measured": value, "met": bool(ok)})

    def find(op: str, impl: str, shape: list[int] | None = None) -> dict[str, Any] | None:
        return next(
            (r for r in rows if r["op"] == op and r["impl"] == impl and (shape is None or r["shape"] == shape)), None
        )

    if device == "cpu":
        r = find("psnr+ssim", "srkit-cpp")
        if r:
            add(
                "C++ batched PSNR+SSIM >= 5x a scikit-image loop (8 x 512x512)",
                r["speedup_vs_baseline"],
                r["speedup_vs_baseline"] >= 5,
            )
        return out
    t = "srkit-triton"
    r = find("psnr", t)
    if r:
        add(
            "batched PSNR, 16 x 4K: >= 80% of measured bandwidth",
            r["fraction_of_bandwidth"],
            r["fraction_of_bandwidth"] >= 0.8,
        )
    v = ratio(rows, "psnr", "torch-per-image-f64", t)
    add("batched PSNR >= 10x the per-image torch reference", v, v is not None and v >= 10)
    for shape in {tuple(r["shape"]) for r in rows if r["op"] == "upsample_tail"}:
        v = ratio(rows, "upsample_tail", t, "copy-of-output", list(shape))
        add(
            f"fused tail {list(shape)} within 10% of a plain copy of its output (time ratio)",
            v,
            v is not None and v <= 1.1,
        )
    cca = [16, 64, 360, 640]
    r = find("cca", t, cca)
    if r:
        add(
            "CCA (16,64,360,640) bf16 >= 75% of measured bandwidth",
            r["fraction_of_bandwidth"],
            r["fraction_of_bandwidth"] >= 0.75,
        )
        add("CCA (16,64,360,640) bf16 >= 3x eager", r["speedup_vs_eager"], r["speedup_vs_eager"] >= 3)
    big = [16, 32, 360, 640]
    r = find("wdsr_b", t, big)
    if r:
        add("WDSR-B (16,32,360,640) bf16 >= 6x eager", r["speedup_vs_eager"], r["speedup_vs_eager"] >= 6)
        v = ratio(rows, "wdsr_b", "torch-compile", t, big)
        add("WDSR-B >= 2x torch.compile", v, v is not None and v >= 2)
        add(
            "WDSR-B within 2x of the fused floor (fraction of roofline >= 0.5)",
            r["fraction_of_roofline"],
            r["fraction_of_roofline"] >= 0.5,
        )
    pair, fused = ratio(rows, "wdsr_a", "torch-compile", t, big), ratio(rows, "wdsr_a_fused", "torch-compile", t, big)
    if pair is not None or fused is not None:  # the faster of the two WDSR-A kernels is the one to keep
        which, v = max((("two conv_epilogue kernels", pair), ("one fused kernel", fused)), key=lambda kv: kv[1] or 0.0)
        add(
            f"WDSR-A (16,32,360,640) bf16 >= 1.3x torch.compile (faster variant: {which})",
            v,
            v is not None and v >= 1.3,
        )

    def mrow(variant: str) -> dict[str, Any] | None:
        return next(
            (
                r
                for r in model_rows
                if r["model"].startswith("imdn")
                and r["variant"] == variant
                and r["dtype"] == "fp16"
                and not r["channels_last"]
                and "median_ms" in r
            ),
            None,
        )

    s, e, c = mrow("srkit"), mrow("eager"), mrow("compile")
    if s and e:
        add(
            "IMDN x4 1080p fp16: srkit >= 3x eager fp16",
            e["median_ms"] / s["median_ms"],
            e["median_ms"] / s["median_ms"] >= 3,
        )
    if s and c:
        add(
            "IMDN x4 1080p fp16: srkit >= 1.5x torch.compile",
            c["median_ms"] / s["median_ms"],
            c["median_ms"] / s["median_ms"] >= 1.5,
        )
    if s:
        add(
            "IMDN x4 fp16 output within fp16 rounding of fp32 eager (max abs diff <= 1e-2)",
            s["max_abs_diff"],
            s["max_abs_diff"] <= 1e-2,
        )
    return out


def models(args: argparse.Namespace, con: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cuda = args.device.startswith("cuda")
    hw = modelbench.RESOLUTIONS["1080p" if cuda else "360p"]
    settings = [
        modelbench.Setting(v, dt, False, g)
        for dt in ([torch.float32, torch.float16] if cuda else [torch.float32])
        for v in (modelbench.VARIANTS if (cuda or not args.quick) else ("eager", "srkit"))
        for g in ([False, True] if cuda else [False])
    ]
    rows: list[dict[str, Any]] = []
    layers: list[dict[str, Any]] = []
    names = ["imdn"] if args.quick and not cuda else list(MODELS)
    for name in names:
        f = MODELS[name]
        path = Path(args.weights) / f if args.weights and f else None
        model = load(path, scale=4) if path and path.is_file() else create_model(name, scale=4)
        label = f"{name} ({'official' if path and path.is_file() else 'random'} weights)"
        if hasattr(model, "fold_weight_norm"):
            model.fold_weight_norm()
        x = torch.rand(1, 3, *modelbench.lr_size(hw, 4, model), device=args.device)
        con.print(f"timing {label} ...")
        rows += modelbench.bench_model(model, label, x, settings, reps=20, max_seconds=5.0)
        layers += [{"model": label} | r for r in modelbench.breakdown(model, x, settings[-1].dtype, reps=3)]
    return rows, layers


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--quick", action="store_true", help="fewer shapes and models, no torch.compile rows")
    p.add_argument("--only", nargs="*", choices=list(BENCHES), help="run these op benchmarks only")
    p.add_argument("--no-models", action="store_true", help="skip the model rows")
    p.add_argument("--no-train", action="store_true", help="skip the training-step rows")
    p.add_argument("--weights", help="folder with the official checkpoints (imdn_x4.pth, rfdn_aim2020_x4.pth, ...)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args(argv)

    from rich.console import Console

    con = Console(width=200)
    t0 = time.perf_counter()
    pk = peaks(args.device)
    fp = fingerprint(args.device)
    con.print(
        f"[bold]{fp['device']}[/]: copy bandwidth {pk.bandwidth_GBps:.1f} GB/s, matmul TFLOP/s {pk.matmul_TFLOPs}"
    )
    rows: list[dict[str, Any]] = []
    for name, mod in BENCHES.items():
        if args.only and name not in args.only:
            continue
        con.print(f"timing {name} ...")
        rows += mod.run(args.device, args.quick, pk)
    con.print(report.table(f"srkit ops on {args.device}", rows, OP_COLUMNS))
    model_rows, layers = ([], []) if args.no_models else models(args, con)
    if model_rows:
        con.print(report.table(f"models on {args.device}", model_rows, MODEL_COLUMNS))
    train_rows = [] if args.no_train else bench_train_step.run(args.device, args.quick)
    if train_rows:
        con.print(report.table(f"training steps on {args.device}", train_rows, TRAIN_COLUMNS))
    g = goals(rows, model_rows, args.device) + bench_train_step.goals(train_rows, args.device)
    for item in g:
        con.print(
            f"goal: {item['goal']}: measured {item['measured']:.3g} -> {'met' if item['met'] else '[red]not met[/]'}"
        )
    record = {
        "fingerprint": fp,
        "peaks": pk.as_dict(),
        "quick": args.quick,
        "seconds": time.perf_counter() - t0,
        "rows": rows,
        "models": model_rows,
        "layers": layers,
        "train_steps": train_rows,
        "goals": g,
    }
    path = Path(args.out) / f"ops_{slug(fp)}{'_quick' if args.quick else ''}.json"
    atomic.write_json(path, record)
    con.print(f"wrote {path}")
    wrong = [r for r in rows if not r["correct"]] + [r for r in model_rows if "error" in r]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
