"""``srkit-bench ops``: every op x implementation x shape x dtype, checked and timed.

Implementations: ``torch-eager`` and ``torch-compile`` (the op as inline PyTorch, see
:func:`srkit.ops.plain_torch`), and ``srkit-<backend>`` for each backend that can run on the
device. Each row records the backend(s) that actually ran, and a fallback with its reason; a case's
implementations are timed together in interleaved rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import torch

from .. import ops
from ..ops import dispatch
from .cases import OpCase
from .device import Peaks, dtype_name
from .timing import Timing, interleaved, measure, rotated

Mode = Callable[[], AbstractContextManager[Any]]


def ran(calls: Iterable[dispatch.Call]) -> tuple[str, str | None]:
    """(backends that ran, joined with '+'; every distinct fallback with its reason, joined with
    '; ') from a trace; 'aten' when the path calls no srkit op."""
    calls = list(calls)
    if not calls:
        return "aten", None
    names = sorted({c.backend for c in calls})
    why = dict.fromkeys(f"{c.op}: {c.fallback_from} -> {c.backend}: {c.reason}" for c in calls if c.fallback_from)
    return "+".join(names), "; ".join(why) or None


def check(case: OpCase, got: torch.Tensor, want: torch.Tensor) -> tuple[bool, float]:
    """(correct, largest absolute error against the float64 ground truth)."""
    if got.shape != want.shape:
        return False, float("inf")
    g = got.detach().double().cpu()
    w = want.cpu()
    finite = torch.isfinite(w)
    if not torch.equal(torch.isfinite(g), finite):
        return False, float("inf")
    err = float((g[finite] - w[finite]).abs().max()) if finite.any() else 0.0
    if case.exact:
        return bool(torch.equal(got.cpu(), want.to(got.dtype).cpu())), err
    scale = float(w[finite].abs().max()) if finite.any() else 1.0
    return err <= case.tol * max(1.0, scale), err


def row(
    case: OpCase,
    impl: str,
    backend: str,
    fallback: str | None,
    t: Timing,
    peaks: Peaks,
    ok: bool,
    err: float,
    up: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One implementation's row; ``up``: its speed-up over eager (median, min, max over rounds)."""
    floor = peaks.floor_ms(case.flops, case.nbytes, case.compute_dtype or case.dtype)
    return {
        "op": case.op,
        "impl": impl,
        "backend_ran": backend,
        "fallback": fallback,
        "shape": list(case.shape),
        "dtype": dtype_name(case.dtype),
        "detail": case.detail,
        **t.as_dict(),
        "GB/s": case.nbytes / (t.median_ms * 1e-3) / 1e9,
        "TFLOP/s": case.flops / (t.median_ms * 1e-3) / 1e12,
        "roofline_floor_ms": floor,
        "fraction_of_roofline": floor / t.median_ms if t.median_ms > 0 else 0.0,
        "fraction_of_bandwidth": case.nbytes / (t.median_ms * 1e-3) / 1e9 / peaks.bandwidth_GBps,
        "speedup_vs_eager": up["median"] if up else None,
        "speedup_vs_eager_min": up["min"] if up else None,
        "speedup_vs_eager_max": up["max"] if up else None,
        "correct": ok,
        "max_abs_err": err,
    }


def implementations(device: str, *, compile: bool, backends: list[str] | None = None) -> list[str]:
    """The implementation labels to run on ``device``: eager, compile, then srkit's backends
    (Triton on the CPU only when asked for: its interpreter is a correctness tool, not a speed path)."""
    labels = ["torch-eager"] + (["torch-compile"] if compile else [])
    avail = dispatch.available_backends(torch.device(device).type)
    wanted = backends or [b for b in avail if not (device == "cpu" and b == "triton")]
    return labels + [f"srkit-{b}" for b in wanted]


def implementation(case: OpCase, impl: str, device: str) -> tuple[Callable[..., torch.Tensor], Mode]:
    """(the function, a maker of the mode it runs in) for one implementation label: ``plain_torch``
    for the eager and compiled rows (the compiled graph is traced in it and guarded on it), the
    backend for ``srkit-<backend>``. The mode is entered around every timed call, so the
    implementations can be timed in turn."""
    if impl == "torch-eager":
        return case.fn, ops.plain_torch
    if impl == "torch-compile":
        mode = "max-autotune-no-cudagraphs" if device.startswith("cuda") else "default"
        return torch.compile(case.fn, mode=mode, dynamic=False), ops.plain_torch
    backend = impl.removeprefix("srkit-")
    return case.fn, lambda: ops.use_backend(backend)


@dataclass
class _Prepared:
    """One implementation checked and warmed up, ready to be timed."""

    call: Callable[[], object]
    backend: str
    fallback: str | None
    ok: bool
    err: float
    first_ms: float  # the slowest warm-up call after the first (an estimate of one call)


def _prepare(case: OpCase, impl: str, device: str, want: torch.Tensor, warmup: int) -> _Prepared:
    fn, mode = implementation(case, impl, device)
    with mode(), dispatch.trace() as calls:
        got = fn(*case.inputs)  # the first call: a compile, a kernel's build; checked, not timed
    backend, fallback = ran(calls) if impl.startswith("srkit-") else (impl, None)
    ok, err = check(case, got, want)
    del got
    caller = rotated(fn, case.inputs, device)

    def call() -> object:
        with mode():
            return caller()

    t = measure(call, device, warmup=0, reps=max(1, warmup))
    return _Prepared(call, backend, fallback, ok, err, t.median_ms)


def plan(one_ms: float, reps: int, max_seconds: float, rounds: int = 5) -> tuple[int, int]:
    """(rounds, calls per round) for an implementation: ``reps`` calls in all, fewer (at least 3)
    where they would take longer than ``max_seconds``, spread over up to ``rounds`` rounds."""
    calls = max(3, min(reps, int(max_seconds * 1e3 / max(one_ms, 1e-6))))
    n = min(rounds, calls)
    return n, max(1, calls // n)


def run_case(
    case: OpCase,
    device: str,
    impls: list[str],
    peaks: Peaks,
    *,
    reps: int = 20,
    warmup: int = 3,
    max_seconds: float = 5.0,
) -> list[dict[str, Any]]:
    """Every implementation checked against the float64 reference, then all timed together in
    interleaved rounds (:func:`srkit.profiler.timing.interleaved`), so a busy stretch of the machine
    falls on each alike; the speed-up over eager is taken within each round (median [min, max])."""
    want = case.reference()
    with torch.no_grad():
        prepared = {impl: _prepare(case, impl, device, want, warmup) for impl in impls}
        slowest = max(p.first_ms for p in prepared.values())
        rounds, per_round = plan(slowest, reps, max_seconds)
        base = "torch-eager" if "torch-eager" in prepared else None
        res = interleaved(
            {i: p.call for i, p in prepared.items()}, device, baseline=base, rounds=rounds, reps=per_round
        )
    rows = []
    for impl, p in prepared.items():
        r = row(case, impl, p.backend, p.fallback, res.timings[impl], peaks, p.ok, p.err, res.speedups.get(impl))
        r["rounds"], r["round_ms"] = rounds, res.round_ms[impl]
        r["load_1min_before"], r["load_1min_after"] = res.noise["load_1min_before"], res.noise["load_1min_after"]
        rows.append(r)
    return rows
