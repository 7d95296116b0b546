"""A training step on the CPU three ways, interleaved: srkit's default (plain autograd of its ops'
references there: ``srkit.ops.dispatch.autograd_inline``), through srkit's custom ops
(``ops.through_ops()``, the default before, whose backward recomputes to store less) and eager
PyTorch (``ops.plain_torch()``). The networks are the #32 fidelity sample's (their genotypes in
bench/results/search/fidelity_x4_uniform/fidelity/), x4, at the search's recipe: batch 16 of HR
96x96 patches (LR 24x24), L1 loss, Adam.

    python bench/train_step_cpu.py [--rounds 8] [--out bench/results]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from srkit import atomic, ops
from srkit.cli.errors import run_cli
from srkit.models import from_genotype
from srkit.profiler.device import fingerprint, slug
from srkit.profiler.timing import interleaved

SAMPLE = Path("bench/results/search/fidelity_x4_uniform/fidelity")
MODES: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "default": contextlib.nullcontext,
    "through_ops": ops.through_ops,
    "eager": ops.plain_torch,
}


def steps(genotype: Path, batch: int = 16, lr_side: int = 24) -> dict[str, Callable[[], None]]:
    """One training step of the genotype's network in each mode (one model, one optimiser)."""
    torch.manual_seed(0)
    model = from_genotype(str(genotype), 4).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(batch, 3, lr_side, lr_side), torch.rand(batch, 3, 4 * lr_side, 4 * lr_side)

    def step(mode: Callable[[], contextlib.AbstractContextManager[None]]) -> None:
        with mode():
            loss = (model(x) - y).abs().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
        opt.step()

    return {name: (lambda m=mode: step(m)) for name, mode in MODES.items()}


def row(genotype: Path, rounds: int) -> dict[str, Any]:
    fns = steps(genotype)
    for fn in fns.values():  # warm-up: first calls, Adam's state
        fn()
    t = interleaved(fns, "cpu", baseline="through_ops", rounds=rounds, reps=2)
    return {
        "network": genotype.parent.name.split("@")[0],
        "median_ms": {n: t.timings[n].median_ms for n in fns},
        "speedup_over_through_ops": t.speedups,
        "round_ms": t.round_ms,
        "noise": t.noise,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--out", type=Path, default=Path("bench/results"))
    a = p.parse_args()
    genotypes = sorted(SAMPLE.glob("*/genotype.json"))
    if not genotypes:
        raise FileNotFoundError(f"no genotypes under {SAMPLE} (run from the repository's root)")
    fp = fingerprint("cpu")
    record: dict[str, Any] = {"fingerprint": fp, "threads": torch.get_num_threads(), "rows": []}
    path = a.out / f"train_step_{slug(fp)}.json"
    for g in genotypes:
        record["rows"].append(r := row(g, a.rounds))
        atomic.write_json(path, record)  # after every network: a stopped run keeps what it measured
        s = r["speedup_over_through_ops"]
        print(r["network"], {n: f"{v['median']:.3f} [{v['min']:.2f}, {v['max']:.2f}]" for n, v in s.items()})
    return 0


if __name__ == "__main__":
    sys.exit(run_cli("train_step_cpu", main))
