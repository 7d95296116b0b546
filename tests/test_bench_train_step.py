"""bench/bench_train_step.py: training-step rows, srkit against eager, and the memory goal's reading."""

from __future__ import annotations

import torch
from torch import nn

from bench import bench_train_step as b
from srkit import ops
from srkit.nn import WideActBlockB


def test_rows_compare_srkit_with_eager_on_the_same_step() -> None:
    x = torch.randn(1, 16, 12, 12)

    def build() -> nn.Module:
        return nn.Sequential(*[WideActBlockB(16, 6, 0.8) for _ in range(4)])

    eager = b.step_row("stack", build, x, x, torch.float32, "eager", reps=2)
    with ops.use_backend("torch"):  # srkit's ops themselves: unforced, CPU training runs them as plain autograd
        ours = b.step_row("stack", build, x, x, torch.float32, "srkit", reps=2)
    assert eager["backend_ran"] == "torch-eager" and ours["backend_ran"] == "torch"  # the CPU's choice for both ops
    assert (
        ours["median_ms"] > 0 and eager["items_per_s"] > 0 and eager["peak_step_MiB"] is None
    )  # no allocator on a CPU
    # the wide activation is recomputed, not stored
    assert ours["saved_activation_MiB"] <= 0.4 * eager["saved_activation_MiB"]


def test_goals_need_a_gpu_and_read_the_ratios() -> None:
    rows = [
        {"bench": "wdsr_b_stack16", "variant": "eager", "peak_step_MiB": 1000.0, "median_ms": 10.0},
        {"bench": "wdsr_b_stack16", "variant": "srkit", "peak_step_MiB": 350.0, "median_ms": 12.5},
    ]
    assert b.goals(rows, "cpu") == []
    mem, speed = b.goals(rows, "cuda")
    assert mem["measured"] == 0.35 and mem["met"]
    assert speed["measured"] == 0.8 and not speed["met"]
