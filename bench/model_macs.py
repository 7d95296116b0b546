"""Work per pixel and the rate it ran at, for every network a search run retrained: multiply-accumulates
per LR pixel (counted by ``torch.utils.flop_counter`` on the PyTorch path) and the GMAC/s that the run's
recorded median latency implies at its latency input. It explains a front: which networks the CPU runs
near its best rate and which are bound by memory traffic. A run made with ``--budget-rounds`` also
gets its rechecked front and baselines (``rechecked``), at the medians of those rounds.

    python bench/model_macs.py bench/results/search/cpu_x4_skip [--out bench/results]

Writes ``model_macs_<run folder name>.json``. Nothing is timed here; the latencies are the run's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from srkit.search import report
from srkit.search.runlog import RunLog
from srkit.search.space import Arch
from srkit.search.spos import baseline_model
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from srkit import atomic
from srkit.models import create_model, from_genotype
from srkit.ops import plain_torch

PROBE = 24  # LR side of the counting input: every network here is fully convolutional, so MACs scale with area


def in_channels(model: nn.Module) -> int:
    conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    return conv.in_channels


def macs_per_pixel(model: nn.Module) -> float:
    x = torch.rand(1, in_channels(model), PROBE, PROBE)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), plain_torch(), counter:
        model(x)
    return counter.get_total_flops() / 2 / (PROBE * PROBE)


def build(entry: dict, scale: int) -> nn.Module:
    if entry["model"].endswith(".json"):
        return from_genotype(entry["model"], scale, **entry["model_args"])
    return create_model(entry["model"], scale=scale, **entry["model_args"])


def _row(model: nn.Module, ms: float, lr_hw: list[int]) -> dict:
    """Its parameters, MACs per LR pixel, the median latency given and the rate that implies."""
    macs = macs_per_pixel(model.eval())
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "in_channels": in_channels(model),
        "macs_per_lr_pixel": round(macs),
        "median_ms": ms,
        "gmac_per_s": round(macs * lr_hw[0] * lr_hw[1] / (ms * 1e-3) / 1e9, 1),
    }


def rows(front: dict) -> list[dict]:
    medians = {t["label"]: t["median_ms"] for t in front["timing"]}
    out = []
    for entry in front["retrained"]:
        key = entry["key"].split(":")[1]
        row = _row(build(entry, front["scale"]), medians.get(key, entry["latency_ms"]), front["latency_input_lr"])
        arch = front.get("architectures", {}).get(key, entry["model"])
        out.append({"key": key, "label": entry["label"], "arch": arch} | row)
    return sorted(out, key=lambda r: r["median_ms"])


def rechecked(run: Path, front: dict) -> list[dict]:
    """The models the run timed again before exporting: the front's architectures and the baselines."""
    log = RunLog(run / "log.jsonl")
    archs = {r["key"]: r["arch"] for r in log.of_kind("candidate")}
    out = []
    for key, ms in report.rechecked(log).items():
        spec = key.removeprefix("baseline:")
        model = (
            baseline_model(spec, front["scale"]) if spec != key else Arch.from_dict(archs[key]).build(front["scale"])
        )
        out.append({"key": key} | _row(model, ms, front["latency_input_lr"]))
    return sorted(out, key=lambda r: r["median_ms"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a search run folder holding front.json")
    ap.add_argument("--out", type=Path, default=Path("bench/results"))
    args = ap.parse_args()
    front = json.loads((args.run / "front.json").read_text())
    result = {"run": str(args.run), "latency_input_lr": front["latency_input_lr"], "rows": rows(front)}
    result["rechecked"] = rechecked(args.run, front)
    path = args.out / f"model_macs_{args.run.name}.json"
    atomic.write_json(path, result)
    for r in result["rows"]:
        print(
            f"{r['arch']:<28} {r['macs_per_lr_pixel']:>9,} MAC/px {r['median_ms']:>8.1f} ms {r['gmac_per_s']:>6.1f} GMAC/s"
        )
    for r in result["rechecked"]:
        print(
            f"rechecked {r['key']:<40} {r['macs_per_lr_pixel']:>9,} MAC/px {r['median_ms']:>8.1f} ms {r['gmac_per_s']:>6.1f} GMAC/s"
        )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
