"""Timing and device facts shared by the op benchmarks."""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_fn(fn: Callable[[], object], device: str, *, warmup: int = 3, reps: int = 15, min_seconds: float = 0.0) -> dict[str, float]:
    """Median and spread of ``fn``'s wall time in ms (CUDA events on a GPU), warm-up excluded."""
    for _ in range(warmup):
        fn()
    sync(device)
    samples: list[float] = []
    t_end = time.perf_counter() + min_seconds
    while len(samples) < reps or time.perf_counter() < t_end:
        if device.startswith("cuda"):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            samples.append(start.elapsed_time(stop))
        else:
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
    q = statistics.quantiles(samples, n=10) if len(samples) >= 2 else samples * 9
    return {"median_ms": statistics.median(samples), "p10_ms": q[0], "p90_ms": q[-1], "reps": len(samples)}


def measured_bandwidth_gbs(device: str, mib: int = 256) -> float:
    """Copy bandwidth (read + write bytes per second) of a large buffer: the roofline's memory peak."""
    n = mib * 2**20 // 4
    a = torch.empty(n, dtype=torch.float32, device=device).fill_(1.0)
    b = torch.empty_like(a)
    t = time_fn(lambda: b.copy_(a), device, warmup=2, reps=10)
    return 2 * a.numel() * 4 / (t["median_ms"] * 1e-3) / 1e9


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fingerprint(device: str) -> dict[str, Any]:
    import srkit
    from srkit.ops import dispatch

    try:
        import triton

        triton_version = triton.__version__
    except Exception:  # noqa: BLE001
        triton_version = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "csrc", "kernels", "srkit"], cwd=ROOT, capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = None, None
    ext = dispatch.extension()
    return {
        "device": torch.cuda.get_device_name() if device.startswith("cuda") else cpu_name(),
        "device_type": device,
        "cpu_threads": torch.get_num_threads(),
        "extension_threads": ext.openmp_threads() if ext else None,
        "srkit": srkit.__version__,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "triton": triton_version,
        "python": platform.python_version(),
        "commit": commit,
        "uncommitted_kernel_changes": dirty,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
