"""ONNX Runtime against itself: how far apart srkit-bench reads two ONNX Runtime sessions of one
model (the static-shape ``ort`` row and the long job's ``default@90000``, which runs srkit's cached
dynamic export) when they are timed beside PyTorch's rows, as in ``bench/default_runtime.py``, and
when they are timed alone. The same runtime twice: any distance between them is the harness's floor
for an ONNX Runtime row on this machine, not a difference between runtimes.

    python bench/ort_aa.py [--out bench/results] [--models fsrcnn wdsr_b blocknet] [--trials 3]

Writes ``ort_aa_<device>.json``. Random weights; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import default_runtime as dr
import torch

from srkit import atomic
from srkit.models import create_model, model_entry
from srkit.profiler import modelbench
from srkit.profiler.device import fingerprint, slug

SETS = {
    "beside_torch": lambda s: True,  # every row of default_runtime.py
    "ort_alone": lambda s: s.variant == "ort" or (s.variant == "default" and s.images > 1),
}


def trial(model: torch.nn.Module, name: str, x: torch.Tensor, keep) -> dict:
    """One bench run of the rows ``keep`` selects: each row's median ms and backend, and the two
    ONNX Runtime rows' ratio per round (median [min, max])."""
    settings = [s for s in dr.settings() if keep(s)]
    rows = modelbench.bench_model(model, name, x, settings, reps=10, rounds=10, max_seconds=20.0)
    by = {dr.label(r): r for r in rows if "round_ms" in r}
    a, b = by["ort"]["round_ms"], by[f"default@{dr.LONG}"]["round_ms"]
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return {
        "median_ms": {k: r["median_ms"] for k, r in by.items()},
        "backend_ran": {k: r["backend_ran"] for k, r in by.items()},
        "long_default_over_ort": statistics.median(ratios),
        "long_default_over_ort_min": min(ratios),
        "long_default_over_ort_max": max(ratios),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="bench/results")
    p.add_argument("--models", nargs="+", default=["fsrcnn", "wdsr_b", "blocknet"])
    p.add_argument("--trials", type=int, default=3)
    a = p.parse_args()
    fp = fingerprint("cpu")
    path = Path(a.out) / f"ort_aa_{slug(fp)}.json"
    record = {"fingerprint": fp, "threads": torch.get_num_threads(), "timing": modelbench.TIMING_METHOD, "models": []}
    t0 = time.perf_counter()
    for name in a.models:
        e = model_entry(name)
        model = create_model(name, scale=4 if 4 in e.scales else e.scales[0]).eval()
        lr = modelbench.lr_size(dr.OUT_HW, int(model.scale), model)
        x = torch.rand(1, int(getattr(model, "in_channels", 3)), *lr)
        res: dict = {"model": name, "lr_hw": list(lr), **{k: [] for k in SETS}}
        for _ in range(a.trials):  # the sets alternate, so neither has the quieter stretch
            for k, keep in SETS.items():
                res[k].append(trial(model, name, x, keep))
                print(name, k, {q: round(v, 3) for q, v in res[k][-1].items() if "over" in q}, flush=True)
        record["models"].append(res)
        record["seconds"] = time.perf_counter() - t0
        atomic.write_json(path, record)


if __name__ == "__main__":
    main()
