"""Is srkit's default path the fastest on this device? For every zoo model: PyTorch eager (NCHW and
channels_last), torch.compile, ONNX Runtime on srkit's export, srkit's fused layers, and srkit's
default (what ``srkit upscale`` and ``Upscaler.load`` run: srkit.runtime's measured choice, for one
image and for a long job of ``LONG`` images, where compile may pay for itself), all
timed together by ``srkit-bench``'s interleaved timer; the default's speed relative to the fastest
alternative taken within each round.

    python bench/default_runtime.py [--out bench/results] [--models espcn imdn ...]

Writes ``default_runtime_<device>.json``. Random weights (speed does not depend on them). Run it on
an otherwise idle machine: the record keeps the load average around each model. For one image the
record also compares the time to the first image (``first_image_*``: setup, choice, export or
compile, and the first call), which is what one image costs a user; run it with empty caches
(``SRKIT_CACHE_DIR``, ``TORCHINDUCTOR_CACHE_DIR``) for a first use's numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from srkit import atomic
from srkit.models import create_model, list_models, model_entry
from srkit.profiler import modelbench
from srkit.profiler.device import fingerprint, slug

ALTERNATIVES = ("eager", "eager+cl", "compile", "ort")
HEAVY = {"rrdbnet", "rcan", "rdn", "edsr", "swinir_light"}  # over ~1 s a call at the common size on 2 cores
OUT_HW, HEAVY_OUT_HW = (256, 256), (128, 128)
LONG = 90_000  # the default chosen for a long job too: an hour of 25 fps video (compile may pay there)


def settings() -> list[modelbench.Setting]:
    f32 = torch.float32
    return [
        modelbench.Setting("eager", f32),
        modelbench.Setting("eager", f32, channels_last=True),
        modelbench.Setting("compile", f32),
        modelbench.Setting("ort", f32),
        modelbench.Setting("srkit", f32),
        modelbench.Setting("default", f32),
        modelbench.Setting("default", f32, images=LONG),
    ]


def label(row: dict) -> str:
    return row["variant"] + ("+cl" if row["channels_last"] else "")


def verdict(rows: list[dict], default: str = "default") -> dict:
    """The default's speed over the fastest alternative (by median), round by round; ``default``:
    its row (``default@N``: chosen for N images)."""
    by = {label(r): r for r in rows if "round_ms" in r}
    alts = [a for a in ALTERNATIVES if a in by]
    if default not in by or not alts:
        return {"error": "; ".join(f"{label(r)}: {r['error']}" for r in rows if "error" in r)}
    best = min(alts, key=lambda a: by[a]["median_ms"])
    ratios = [b / d for b, d in zip(by[best]["round_ms"], by[default]["round_ms"], strict=True)]
    return {
        "default_runtime": by[default]["backend_ran"],
        "best_alternative": best,
        "default_over_best": statistics.median(ratios),
        "default_over_best_min": min(ratios),
        "default_over_best_max": max(ratios),
        "meets_0.95": statistics.median(ratios) >= 0.95,
    }


def first_image(rows: list[dict]) -> dict:
    """One image as a user gets it: the seconds to the first image on each runtime from a model in
    memory (its setup, the choice, an export or a compile, and its first call: ``first_call_s``), the
    one-image default's over the soonest alternative's."""
    by = {label(r): r["first_call_s"] for r in rows if "first_call_s" in r}
    alts = [a for a in ALTERNATIVES if a in by]
    if "default" not in by or not alts:
        return {}
    best = min(alts, key=lambda a: by[a])
    ratio = by[best] / by["default"]
    return {
        "first_image_s": {a: by[a] for a in (*alts, "default")},
        "first_image_best_alternative": best,
        "first_image_default_over_best": ratio,
        "first_image_meets_0.95": ratio >= 0.95,
    }


def bench(name: str, reps: int) -> dict:
    e = model_entry(name)
    model = create_model(name, scale=4 if 4 in e.scales else e.scales[0]).eval()
    if hasattr(model, "fold_weight_norm"):
        model.fold_weight_norm()
    hw = HEAVY_OUT_HW if name in HEAVY else OUT_HW
    lr = modelbench.lr_size(hw, int(model.scale), model)
    x = torch.rand(1, int(getattr(model, "in_channels", 3)), *lr)
    rows = modelbench.bench_model(model, name, x, settings(), reps=reps, rounds=10, max_seconds=20.0)
    long = {f"long_{k}": v for k, v in verdict(rows, f"default@{LONG}").items()}
    return {"model": name, "lr_hw": list(lr), "rows": rows, **verdict(rows), **long, **first_image(rows)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="bench/results")
    p.add_argument("--models", nargs="+", default=list_models())
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    fp = fingerprint("cpu")
    path = Path(a.out) / f"default_runtime_{slug(fp)}.json"
    record = {"fingerprint": fp, "threads": torch.get_num_threads(), "timing": modelbench.TIMING_METHOD, "models": []}
    t0 = time.perf_counter()
    for name in a.models:
        res = bench(name, a.reps)
        record["models"].append(res)
        record["seconds"] = time.perf_counter() - t0
        atomic.write_json(path, record)  # after every model: a stopped run keeps what it measured
        print(name, {k: v for k, v in res.items() if k not in ("rows",)}, flush=True)
    met = [m for m in record["models"] if m.get("meets_0.95")]
    long = [m for m in record["models"] if m.get("long_meets_0.95")]
    first = [m for m in record["models"] if m.get("first_image_meets_0.95")]
    record["summary"] = {
        "models": len(record["models"]),
        "default_within_0.95_of_best": len(met),
        f"default_for_{LONG}_images_within_0.95_of_best": len(long),
        "first_image_within_0.95_of_best": len(first),
    }
    atomic.write_json(path, record)
    print(record["summary"])


if __name__ == "__main__":
    main()
