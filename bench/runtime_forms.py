"""Does srkit's default run a runtime as fast as ``srkit-bench``'s row of that runtime? For each
model: ``compile`` as ``srkit upscale`` runs it (:func:`srkit.runtime.engine`: the Upscaler around
``Compiled``, dynamic shapes left to torch) beside the bench's compile row (``torch.compile(...,
dynamic=False)`` under ``srkit.ops.plain_torch()``), and ``ort`` as srkit runs it (the cached dynamic export, a session fixed to the
input's size, through the Upscaler) beside the bench's ORT row (a static export fed NumPy directly);
all timed together in interleaved rounds, the ratio taken within each round.

    python bench/runtime_forms.py [--out bench/results] [--models rfdn imdn ...] [--rounds 12]

Writes ``runtime_forms_<device>.json``. Random weights; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
import time
from pathlib import Path

import torch

from srkit import atomic, ops, runtime
from srkit.models import create_model
from srkit.profiler import modelbench
from srkit.profiler.device import fingerprint, slug
from srkit.profiler.timing import interleaved

MODELS = ("blocknet", "rfdn", "srcnn_ps", "imdn", "rlfn", "espcn", "carn", "wdsr_a")
OUT_HW = (256, 256)


def forms(model: torch.nn.Module, x: torch.Tensor) -> dict[str, object]:
    """name -> zero-argument call: each runtime as the bench's row runs it and as srkit's default does."""
    row_compile = torch.compile(copy.deepcopy(model), dynamic=False)
    row_ort = modelbench.OrtForward(model, x)
    default_compile = runtime.engine(copy.deepcopy(model), "compile")
    default_ort = runtime.engine(model, "ort")

    def compile_row() -> object:
        with ops.plain_torch():  # as srkit-bench's compile row runs it (srkit's ops inline for inductor)
            return row_compile(x)

    return {
        "compile_row": compile_row,
        "compile_default": lambda: default_compile.forward(x),
        "ort_row": lambda: row_ort(x),
        "ort_default": lambda: default_ort.forward(x),
    }


def bench(name: str, rounds: int, reps: int) -> dict:
    model = create_model(name, scale=4).eval()
    if hasattr(model, "fold_weight_norm"):
        model.fold_weight_norm()
    lr = modelbench.lr_size(OUT_HW, 4, model)
    x = torch.rand(1, int(getattr(model, "in_channels", 3)), *lr)
    fns = forms(model, x)
    first = {}
    with torch.inference_mode():
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()  # compiles and exports are not timed
            first[k] = time.perf_counter() - t0
        res = interleaved(fns, "cpu", rounds=rounds, reps=reps)
    out = {"model": name, "lr_hw": list(lr), "first_call_s": first, "noise": res.noise}
    for rt in ("compile", "ort"):
        r = [a / b for a, b in zip(res.round_ms[f"{rt}_row"], res.round_ms[f"{rt}_default"], strict=True)]
        out[rt] = {
            "row_ms": res.timings[f"{rt}_row"].median_ms,
            "default_ms": res.timings[f"{rt}_default"].median_ms,
            "default_speed_over_row": sorted(r)[len(r) // 2],
            "min": min(r),
            "max": max(r),
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="bench/results")
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    fp = fingerprint("cpu")
    path = Path(a.out) / f"runtime_forms_{slug(fp)}.json"
    timing = "interleaved rounds, the order rotated each round; per round the median of --reps calls; ratios within each round"
    record = {"fingerprint": fp, "threads": torch.get_num_threads(), "timing": timing, "rounds": a.rounds, "models": []}
    with tempfile.TemporaryDirectory() as cache:  # a cold ONNX cache: every export made here
        os.environ["SRKIT_CACHE_DIR"] = cache
        for name in a.models:
            record["models"].append(bench(name, a.rounds, a.reps))
            atomic.write_json(path, record)  # after every model: a stopped run keeps what it measured
            m = record["models"][-1]
            print(name, {rt: round(m[rt]["default_speed_over_row"], 3) for rt in ("compile", "ort")}, flush=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
