"""Does a runtime's measured speed depend on what ran just before it, or on the run? One model's
candidates (as srkit.runtime times them) in interleaved rounds of 1, 3 and 10 calls back to back per
runtime, the whole repeated ``--runs`` times in one process; speed-ups over torch within each round.

    python bench/call_pattern.py [--model espcn] [--lr 64] [--rounds 15] [--runs 4] [--out bench/results]

Writes ``call_pattern_<model>_<device>.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from srkit import atomic
from srkit import runtime as rt
from srkit.models import create_model
from srkit.profiler.device import fingerprint, slug
from srkit.profiler.timing import interleaved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="espcn")
    p.add_argument("--lr", type=int, default=64)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--out", default="bench/results")
    a = p.parse_args()
    torch.manual_seed(0)
    model = create_model(a.model, scale=4).eval()
    x = torch.rand(1, int(getattr(model, "in_channels", 3)), a.lr, a.lr)
    cpu = torch.device("cpu")
    fns = {n: rt._forward(model, n, x, cpu, torch.float32) for n in rt.candidates(cpu)}
    fp = fingerprint("cpu")
    record: dict = {"fingerprint": fp, "model": a.model, "lr": a.lr, "rounds": a.rounds, "patterns": []}
    with torch.inference_mode():
        for f in fns.values():
            f()  # first calls (the export, oneDNN's kernel choice) are not timed
        for run in range(a.runs):
            for back_to_back in (1, 3, 10):
                r = interleaved(fns, cpu, baseline="torch", rounds=a.rounds, reps=back_to_back)
                row = {"run": run, "calls_back_to_back": back_to_back}
                row["median_ms"] = {n: t.median_ms for n, t in r.timings.items()}
                record["patterns"].append(row | {"speedups": r.speedups, "noise": r.noise})
                print(run, back_to_back, {n: round(s["median"], 2) for n, s in r.speedups.items()}, flush=True)
    atomic.write_json(Path(a.out) / f"call_pattern_{a.model}_{slug(fp)}.json", record)


if __name__ == "__main__":
    main()
