"""Training steps, srkit against eager PyTorch: 16 stacked WDSR-B blocks (issue #3's memory goal:
peak memory <= 40 % of eager at the same batch, no slower) and whole WDSR-B and IMDN models (the
training issue's throughput and peak memory, fused against eager).

A step is forward, an L1 loss, backward and an Adam update; ``eager`` runs the same modules inside
:func:`srkit.ops.plain_torch` (every op as inline PyTorch, so autograd stores what eager stores).
Each row reports the median step time, items per second, the bytes autograd saved for backward in
the forward (any device) and, on a GPU, the peak memory allocated during a step above what the
model and optimiser already held.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from srkit import ops
from srkit.models import create_model
from srkit.nn import WideActBlockB
from srkit.profiler.device import dtype_name
from srkit.profiler.opbench import ran
from srkit.profiler.timing import measure, sync


def _saved_bytes(fn: Callable[[], torch.Tensor], params: set[int]) -> int:
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.data_ptr() not in params:  # weights are not activations
            seen[t.data_ptr()] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def step_row(
    name: str,
    build: Callable[[], nn.Module],
    x: torch.Tensor,
    target: torch.Tensor,
    dtype: torch.dtype,
    variant: str,
    *,
    reps: int = 10,
) -> dict[str, Any]:
    """One training-step row for ``build()`` on ``x`` -> ``target`` (``variant``: srkit | eager)."""
    dev = x.device
    torch.manual_seed(0)
    model = build().to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    mode = ops.plain_torch if variant == "eager" else contextlib.nullcontext
    autocast = torch.autocast(dev.type, dtype=dtype, enabled=dtype != torch.float32)

    def forward() -> torch.Tensor:
        with mode(), autocast:
            return (model(x).float() - target).abs().mean()

    def step() -> None:
        loss = forward()
        opt.zero_grad(set_to_none=True)
        with mode():
            loss.backward()
        opt.step()

    params = {p.data_ptr() for p in model.parameters()}
    with ops.trace() as calls:
        step()  # also creates Adam's state, so the peak below is the step's own
    saved = _saved_bytes(forward, params)
    peak = None
    if dev.type == "cuda":
        sync(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        step()
        sync(dev)
        peak = (torch.cuda.max_memory_allocated(dev) - base) / 2**20
    t = measure(step, dev, warmup=1, reps=reps, max_seconds=20.0)
    return {
        "bench": name,
        "variant": variant,
        "dtype": dtype_name(dtype),
        "shape": list(x.shape),
        "backend_ran": ran(calls)[0] if variant == "srkit" else "torch-eager",
        "median_ms": t.median_ms,
        "p10_ms": t.p10_ms,
        "p90_ms": t.p90_ms,
        "items_per_s": x.shape[0] / (t.median_ms * 1e-3),
        "saved_activation_MiB": saved / 2**20,
        "peak_step_MiB": peak,
    }


def run(device: str, quick: bool) -> list[dict[str, Any]]:
    cuda = device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32
    n, hw, lr = (16, 128, 48) if cuda else (2, 32, 16)
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(n, 32, hw, hw, generator=gen).to(device)
    stack = (
        "wdsr_b_stack16",
        lambda: nn.Sequential(*[WideActBlockB(32, 6, 0.8, weight_norm=True) for _ in range(16)]),
        feats,
        feats,
    )
    lr_img = torch.rand(n, 3, lr, lr, generator=gen).to(device)
    hr_img = torch.rand(n, 3, 4 * lr, 4 * lr, generator=gen).to(device)
    jobs = [stack] + (
        [] if quick else [(f"{m}_x4", lambda m=m: create_model(m, scale=4), lr_img, hr_img) for m in ("wdsr_b", "imdn")]
    )
    return [step_row(name, build, x, y, dtype, v) for name, build, x, y in jobs for v in ("eager", "srkit")]


def goals(rows: list[dict[str, Any]], device: str) -> list[dict[str, Any]]:
    """Issue #3's training goals for the 16-block stack (GPU only: peak memory needs the allocator)."""
    e = next((r for r in rows if r["bench"] == "wdsr_b_stack16" and r["variant"] == "eager"), None)
    s = next((r for r in rows if r["bench"] == "wdsr_b_stack16" and r["variant"] == "srkit"), None)
    if not device.startswith("cuda") or e is None or s is None or not e["peak_step_MiB"]:
        return []
    mem = s["peak_step_MiB"] / e["peak_step_MiB"]
    speed = e["median_ms"] / s["median_ms"]
    return [
        {
            "goal": "16 stacked WDSR-B blocks, training step: peak memory <= 40% of eager",
            "measured": mem,
            "met": mem <= 0.4,
        },
        {
            "goal": "16 stacked WDSR-B blocks, training step: no slower than eager (speed ratio >= 1)",
            "measured": speed,
            "met": speed >= 1.0,
        },
    ]
