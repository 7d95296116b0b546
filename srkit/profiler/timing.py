"""How ``srkit-bench`` times one thing: warm-up excluded, many repetitions, median with spread.

On a GPU each repetition is bracketed by CUDA events, all enqueued back to back and read after one
synchronisation; on a CPU by a monotonic clock after a synchronisation. Inputs that would sit in the last-level cache between repetitions are rotated
through enough copies that every repetition reads from memory (:func:`rotation_count`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class Timing:
    """Statistics of the timed repetitions (warm-up calls are not among them), in milliseconds."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    min_ms: float
    mean_ms: float
    reps: int
    warmup: int

    @classmethod
    def from_samples(cls, samples: Sequence[float], warmup: int) -> Timing:
        if not samples:
            raise ValueError("Timing: no samples")
        a = np.asarray(samples, dtype=np.float64)
        p10, med, p90 = np.percentile(a, [10, 50, 90])
        return cls(float(med), float(p10), float(p90), float(a.min()), float(a.mean()), len(a), warmup)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync(device: str | torch.device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def measure(
    fn: Callable[[], object],
    device: str | torch.device = "cpu",
    *,
    warmup: int = 3,
    reps: int = 20,
    min_seconds: float = 0.0,
    max_seconds: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then at least ``reps`` timed ones (more until
    ``min_seconds`` have passed; fewer, but at least 3, once ``max_seconds`` have). ``clock`` is the
    CPU clock in seconds (a parameter so the tests can drive it)."""
    if warmup < 0 or reps < 1:
        raise ValueError(f"measure: need warmup >= 0 and reps >= 1, got warmup={warmup}, reps={reps}")
    cuda = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    sync(device)
    samples: list[float] = []
    events: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []
    start = clock()
    while True:
        if cuda:  # enqueued back to back and read after one sync: no host round trip between repetitions
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            events.append((a, b))
        else:
            t0 = clock()
            fn()
            samples.append((clock() - t0) * 1e3)
        n = len(events) + len(samples)
        spent = clock() - start
        if max_seconds is not None and spent >= max_seconds and n >= min(3, reps):
            break
        if n >= reps and spent >= min_seconds:
            break
    if cuda:
        torch.cuda.synchronize()
        samples = [a.elapsed_time(b) for a, b in events]
    return Timing.from_samples(samples, warmup)


def cache_bytes(device: str | torch.device) -> int:
    """The last-level cache that could hold a benchmark's inputs: the GPU's L2, or the CPU's largest
    cache level (from sysfs; 32 MiB when it cannot be read)."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return int(getattr(torch.cuda.get_device_properties(dev), "L2_cache_size", 50 * 2**20))
    from pathlib import Path

    best = 0
    for size in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        try:
            text = size.read_text().strip()
            mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1], 1)
            best = max(best, int(text.rstrip("KMG")) * mult)
        except (OSError, ValueError):
            continue
    return best or 32 * 2**20


def rotation_count(bytes_per_call: int, cache: int, *, limit_bytes: int = 2**30, most: int = 64) -> int:
    """How many copies of the inputs to cycle through so that their total exceeds twice the cache
    (1 when the inputs alone already do); bounded by ``most`` copies and ``limit_bytes`` in all."""
    if bytes_per_call <= 0:
        raise ValueError("rotation_count: bytes_per_call must be positive")
    if bytes_per_call >= 2 * cache:
        return 1
    n = math.ceil(2 * cache / bytes_per_call) + 1
    return max(1, min(n, most, limit_bytes // bytes_per_call))


class Rotating:
    """``Rotating(fn, input_sets)()`` calls ``fn(*input_sets[i % k])`` on the i-th call."""

    def __init__(self, fn: Callable[..., object], input_sets: Sequence[Sequence[Any]]) -> None:
        if not input_sets:
            raise ValueError("Rotating: no input sets")
        self.fn, self.sets, self.i = fn, list(input_sets), 0

    def __call__(self) -> object:
        args = self.sets[self.i % len(self.sets)]
        self.i += 1
        return self.fn(*args)


def tensor_bytes(tensors: Sequence[Any]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))


def rotated(fn: Callable[..., object], inputs: Sequence[Any], device: str | torch.device) -> Callable[[], object]:
    """A zero-argument caller of ``fn(*inputs)`` that cycles through copies of the tensor inputs
    when they would otherwise stay in the device's last-level cache between calls."""
    k = rotation_count(max(1, tensor_bytes(inputs)), cache_bytes(device))
    sets = [list(inputs)] + [[t.clone() if isinstance(t, torch.Tensor) else t for t in inputs] for _ in range(k - 1)]
    return Rotating(fn, sets)


@dataclass(frozen=True)
class Interleaved:
    """What :func:`interleaved` measured: per name, the :class:`Timing` of all its timed calls and
    the median of each round; per name, its speed-up over ``baseline`` taken within each round
    (baseline's round median / its own), as median with [min, max]; the machine's load around it."""

    timings: dict[str, Timing]
    round_ms: dict[str, list[float]]
    speedups: dict[str, dict[str, float]]
    noise: dict[str, Any]


def interleaved(
    fns: dict[str, Callable[[], object]],
    device: str | torch.device = "cpu",
    *,
    baseline: str | None = None,
    rounds: int = 5,
    reps: int = 5,
) -> Interleaved:
    """Time every ``fns[name]()`` in ``rounds`` rounds; in round r the names run in the order
    :func:`round_order` gives, each ``reps`` times, so a busy stretch of the machine falls on every name alike and each
    round's ratios compare calls made moments apart. Warm-up is the caller's (first calls, compiles)."""
    if not fns or rounds < 1 or reps < 1:
        raise ValueError(f"interleaved: need functions, rounds >= 1 and reps >= 1 (got {len(fns)}, {rounds}, {reps})")
    names = list(fns)
    round_ms: dict[str, list[float]] = {n: [] for n in names}
    load_before = _load()
    for r in range(rounds):
        for n in round_order(names, r):
            t = measure(fns[n], device, warmup=0, reps=reps)
            round_ms[n].append(t.median_ms)
    # statistics over the rounds' medians; reps counts every timed call
    timings = {n: replace(Timing.from_samples(round_ms[n], warmup=0), reps=rounds * reps) for n in names}
    speedups = {}
    if baseline is not None:
        for n in names:
            ratios = np.asarray(round_ms[baseline]) / np.asarray(round_ms[n])
            speedups[n] = {"median": float(np.median(ratios)), "min": float(ratios.min()), "max": float(ratios.max())}
    spread = {n: max(v) / min(v) for n, v in round_ms.items()}
    noise = {"load_1min_before": load_before, "load_1min_after": _load(), "round_spread_max_over_min": spread}
    return Interleaved(timings, round_ms, speedups, noise)


def round_order(names: list[str], r: int) -> list[str]:
    """Round ``r``'s order: rotated by r, and reversed on odd rounds, so that no name always runs
    right after the same other one (a runtime that keeps its threads spinning after a call, as ONNX
    Runtime's pool does, would otherwise always slow the same neighbour)."""
    k = r % len(names)
    order = names[k:] + names[:k]
    return order[::-1] if r % 2 else order


def _load() -> float | None:
    """The 1-minute load average (runnable processes), where the system reports one."""
    import os

    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None
