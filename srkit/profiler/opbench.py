"""``srkit-bench ops``: every op x implementation x shape x dtype, checked and timed.

Implementations: ``torch-eager`` and ``torch-compile`` (the op as inline PyTorch, see
:func:`srkit.ops.plain_torch`), and ``srkit-<backend>`` for each backend that can run on the
device. Each row records the backend(s) that actually ran, and a fallback with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

import torch

from .. import ops
from ..ops import dispatch
from .cases import OpCase
from .device import Peaks, dtype_name
from .timing import Timing, measure, rotated


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
    eager_ms: float | None,
) -> dict[str, Any]:
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
        "speedup_vs_eager": (eager_ms / t.median_ms) if eager_ms else None,
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


def implementation(
    case: OpCase, impl: str, device: str
) -> tuple[Callable[..., torch.Tensor], AbstractContextManager[Any]]:
    """(the function, the mode it runs in) for one implementation label. The mode is entered once
    around a row's check and timing, not per call: ``plain_torch`` for the eager and compiled rows
    (the compiled graph is traced in it and guarded on it), the backend for ``srkit-<backend>``."""
    if impl == "torch-eager":
        return case.fn, ops.plain_torch()
    if impl == "torch-compile":
        mode = "max-autotune-no-cudagraphs" if device.startswith("cuda") else "default"
        return torch.compile(case.fn, mode=mode, dynamic=False), ops.plain_torch()
    return case.fn, ops.use_backend(impl.removeprefix("srkit-"))


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
    rows: list[dict[str, Any]] = []
    want = case.reference()
    eager_ms: float | None = None
    with torch.no_grad():
        for impl in impls:
            fn, mode = implementation(case, impl, device)
            with mode:
                with dispatch.trace() as calls:
                    got = fn(*case.inputs)
                t = measure(rotated(fn, case.inputs, device), device, warmup=warmup, reps=reps, max_seconds=max_seconds)
            backend, fallback = ran(calls) if impl.startswith("srkit-") else (impl, None)
            ok, err = check(case, got, want)
            if impl == "torch-eager":
                eager_ms = t.median_ms
            rows.append(row(case, impl, backend, fallback, t, peaks, ok, err, eager_ms))
            del got
    return rows
