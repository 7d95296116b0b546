"""Backend selection for srkit's ops.

Every op has up to four backends:

* ``triton`` -- the Triton kernels in ``srkit.kernels`` (CUDA tensors; CPU tensors only when
  Triton's interpreter is on, ``TRITON_INTERPRET=1`` set before Triton is imported);
* ``cuda``   -- the CUDA C++ kernels of the extension ``srkit._C`` (CUDA tensors);
* ``cpp``    -- the C++/OpenMP kernels of the extension (CPU tensors);
* ``torch``  -- the pure-PyTorch reference (anything).

The default follows the tensor's device: CUDA tensors try triton, cuda, torch; CPU tensors try
cpp, torch. An op may register its own order where a measurement says another backend wins (the
conv_epilogue op prefers PyTorch's oneDNN convolution on the CPU); that is a choice, not a
fallback, and ``last_call`` still names the backend that ran. ``SRKIT_BACKEND=<name>`` or ``with use_backend(name):`` puts one backend first.
Each op declares itself once (``declare``: its backends, the bench case that times it, its home
file; :class:`OpSpec`); ``implementations(op)``
returns it, so tests can call one backend directly and ``srkit info`` reports what really exists.
Availability is probed lazily and for real (the Triton probe launches a kernel and checks its
result). Whenever the preferred backend cannot run, the fallback is logged (once per cause) on the
``srkit.ops`` logger; ``use_backend(name, strict=True)`` raises instead. The backend that ran is
recorded: ``last_backend(op)``, or every call inside ``with trace() as calls:``.

``with plain_torch():`` is the baseline mode: the ops run as inline PyTorch code (the reference,
not through the custom ops), so a model is exactly "the same network on plain PyTorch layers" and
``torch.compile`` sees through every op and fuses it. ``srkit-bench`` times PyTorch eager and
``torch.compile`` this way; no call is recorded there, the rows say so by name.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType

import torch

BACKENDS: tuple[str, ...] = ("triton", "cuda", "cpp", "torch")
DEFAULT_ORDER: dict[str, tuple[str, ...]] = {"cuda": ("triton", "cuda", "torch"), "cpu": ("cpp", "torch")}

log = logging.getLogger("srkit.ops")


class BackendUnavailable(RuntimeError):
    """A backend was required (``strict=True``) but cannot run this call."""


@dataclass(frozen=True)
class Call:
    """One op call as dispatched: which backend ran, and why the preferred one did not (if so)."""

    op: str
    backend: str
    device: str
    dtype: str
    fallback_from: str | None = None
    reason: str | None = None


# ---------------------------------------------------------------------------------------------
# availability probes


@functools.cache
def _extension() -> tuple[ModuleType | None, str]:
    try:
        return importlib.import_module("srkit._C"), ""
    except ImportError as e:  # not built, or built against another torch
        return None, f"the extension srkit._C is not importable ({e})"


# loaded with srkit.ops, not by the first op that runs: its ~1 ms of loading was a tenth of a small
# model's first image (ESPCN's default, 11 ms on 2 cores), beside the seconds that importing torch takes
_extension()


def extension() -> ModuleType | None:
    """The compiled extension ``srkit._C``, or None when it is not built."""
    return _extension()[0]


def extension_error() -> str:
    """Why ``srkit._C`` did not import ('' when it did)."""
    return _extension()[1]


def triton_interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@functools.cache
def _probe_triton(device_type: str) -> str:
    if device_type == "cpu" and not triton_interpreting():
        return "Triton runs CPU tensors only in interpreter mode (set TRITON_INTERPRET=1 before importing srkit)"
    if device_type == "cuda" and not torch.cuda.is_available():
        return "no CUDA device is available"
    try:
        from srkit.kernels import helpers
    except Exception as e:  # noqa: BLE001 - any import failure means "not usable", with the cause
        return f"Triton is not importable ({type(e).__name__}: {e})"
    try:
        x = torch.arange(37, dtype=torch.float32, device=device_type)
        out = torch.full_like(x, float("nan"))
        helpers.probe(x, out)
        if not torch.equal(out, x * 2 + 1):
            return "the Triton probe kernel returned a wrong result"
    except Exception as e:  # noqa: BLE001
        return f"the Triton probe kernel failed ({type(e).__name__}: {e})"
    return ""


def unavailable_reason(backend: str, device_type: str) -> str:
    """Why ``backend`` cannot run ops on ``device_type`` tensors ('' when it can)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown srkit backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return ""
    if backend == "triton":
        return _probe_triton(device_type)
    ext, why = _extension()
    if ext is None:
        return why
    if backend == "cpp":
        return "" if device_type == "cpu" else f"the cpp backend runs CPU tensors only, not {device_type}"
    if device_type != "cuda":
        return f"the cuda backend runs CUDA tensors only, not {device_type}"
    if not ext.built_with_cuda():
        return "srkit._C was built without CUDA (reinstall with a CUDA toolkit, or SRKIT_CUDA=1)"
    if not torch.cuda.is_available():
        return "no CUDA device is available"
    return ""


def available_backends(device_type: str) -> list[str]:
    return [b for b in BACKENDS if not unavailable_reason(b, device_type)]


# ---------------------------------------------------------------------------------------------
# the ops' implementation tables

Impl = Callable[..., object]
_registry: dict[str, Mapping[str, Impl]] = {}
_orders: dict[str, dict[str, tuple[str, ...]]] = {}


def register(
    op: str, impls: Mapping[str, Impl], order: Mapping[str, tuple[str, ...]] | None = None
) -> Mapping[str, Impl]:
    """Record ``op``'s implementations, backend name -> callable; returns them. ``order``: device
    type -> backend order, where this op's measured winner differs from :data:`DEFAULT_ORDER`."""
    named = set(impls).union(*(order or {}).values())
    unknown = named - set(BACKENDS)
    if unknown:
        raise ValueError(f"srkit: op {op}: unknown backends {sorted(unknown)}")
    _registry[op] = impls
    _orders[op] = dict(order or {})
    _candidates.cache_clear()  # a re-registered op changes its order
    return impls


def default_order(op: str, device_type: str) -> tuple[str, ...]:
    """The backends ``op`` tries on ``device_type`` when none is forced, best first."""
    return _orders.get(op, {}).get(device_type) or DEFAULT_ORDER.get(device_type, ("torch",))


def implementations(op: str) -> Mapping[str, Impl]:
    """``op``'s implementations, backend name -> callable (each writes into caller-given outputs)."""
    try:
        return _registry[op]
    except KeyError:
        raise ValueError(f"srkit: unknown op {op!r}; registered: {', '.join(sorted(_registry))}") from None


def registered_ops() -> list[str]:
    return list(_registry)


@dataclass(frozen=True)
class OpSpec:
    """What srkit declares about an op, once, in ``srkit/ops/<name>.py`` (:func:`declare`); the
    dispatcher's table, srkit-bench's case list and the codebase's naming checks read it."""

    name: str
    backends: tuple[str, ...]  # those it has, by name
    timed_in: str  # the ``srkit-bench ops`` case that times it: its own name, or its block's
    home: str  # the ops file that declares it: its own name, or the op whose second entry point it is


_specs: dict[str, OpSpec] = {}


def declare(
    op: str,
    impls: Mapping[str, Impl],
    *,
    order: Mapping[str, tuple[str, ...]] | None = None,
    timed_in: str | None = None,
    home: str | None = None,
) -> OpSpec:
    """Register ``op``'s backends (:func:`register`) and record its spec: the bench case that times
    it (``timed_in``, default its own name) and the ops file it lives in (``home``, default its own)."""
    register(op, impls, order)
    spec = OpSpec(op, tuple(impls), timed_in or op, home or op)
    _specs[op] = spec
    return spec


def specs() -> dict[str, OpSpec]:
    """Every declared op's spec, by name."""
    return dict(_specs)


def by_name(op: str, *backends: str) -> dict[str, Impl]:
    """The backends whose entry points follow the one-name rule, called with the op's own arguments:
    ``triton``: ``srkit.kernels.<op>.<op>``; ``cuda`` / ``cpp``: ``srkit._C.<op>_cuda`` / ``<op>_cpu``."""

    def triton(*args: object) -> object:
        return getattr(importlib.import_module(f"srkit.kernels.{op}"), op)(*args)

    def compiled(suffix: str) -> Impl:
        return lambda *args: getattr(extension(), f"{op}_{suffix}")(*args)

    made = {"triton": triton, "cuda": compiled("cuda"), "cpp": compiled("cpu")}
    return {b: made[b] for b in backends}


# ---------------------------------------------------------------------------------------------
# forcing, recording


_forced: contextvars.ContextVar[tuple[str, bool] | None] = contextvars.ContextVar("srkit_backend", default=None)
_trace: contextvars.ContextVar[list[Call] | None] = contextvars.ContextVar("srkit_trace", default=None)
_last: dict[str, Call] = {}
_warned: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


@contextlib.contextmanager
def use_backend(name: str, *, strict: bool = False) -> Iterator[None]:
    """Prefer backend ``name`` for every op called inside; with ``strict``, raise if it cannot run."""
    if name not in BACKENDS:
        raise ValueError(f"unknown srkit backend {name!r}; choose one of {', '.join(BACKENDS)}")
    token = _forced.set((name, strict))
    try:
        yield
    finally:
        _forced.reset(token)


@contextlib.contextmanager
def trace() -> Iterator[list[Call]]:
    """Collect a :class:`Call` for every op dispatched inside the block."""
    calls: list[Call] = []
    token = _trace.set(calls)
    try:
        yield calls
    finally:
        _trace.reset(token)


_plain = False
_through: contextvars.ContextVar[bool] = contextvars.ContextVar("srkit_through_ops", default=False)


@contextlib.contextmanager
def through_ops() -> Iterator[None]:
    """Train through srkit's custom ops on the CPU too (:func:`autograd_inline` off): their backward
    recomputes what plain autograd stores (WDSR-B's wide activation), for less memory at more time."""
    token = _through.set(True)
    try:
        yield
    finally:
        _through.reset(token)


@contextlib.contextmanager
def plain_torch() -> Iterator[None]:
    """Run every srkit op inside as inline PyTorch code (no custom op, no kernel): the eager and
    ``torch.compile`` baselines, and the path export takes. Not context-local, unlike
    :func:`use_backend`: compiled baselines read the flag inside the traced forward, and Dynamo
    cannot trace ``ContextVar.get`` (it guards a module global instead). Use it around whole runs."""
    global _plain
    before, _plain = _plain, True
    try:
        yield
    finally:
        _plain = before


_bodies: dict[object, Callable[..., object]] = {}  # each custom op's undecorated body


def custom_op(name: str, *, mutates_args: tuple[str, ...] = ()) -> Callable[[Callable[..., object]], object]:
    """``torch.library.custom_op``, its body kept for :func:`call`."""

    def wrap(fn: Callable[..., object]) -> object:
        op = torch.library.custom_op(name, fn, mutates_args=mutates_args)
        _bodies[op] = fn
        return op

    return wrap


def call(op: object, *args: object) -> object:
    """Custom op ``op`` (made by :func:`custom_op`) on ``args``: through the op where autograd,
    ``torch.compile``, tracing or a dispatch mode needs its boundary, else its body directly, which
    picks and records the same backend and computes the same result without the boundary's cost. A
    custom op's first call imports torch's compiler (2-3 s on 2 CPU cores), a first image's whole
    time for a small network."""
    body = _bodies.get(op)  # (None for a stand-in, as a test's)
    return body(*args) if body is not None and _direct(args) else op(*args)  # type: ignore[operator]


def _direct(args: tuple[object, ...]) -> bool:
    """Whether nothing around this call needs the custom op: no gradient to record, no compile,
    trace, functorch transform or dispatch mode, only plain tensors."""
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if torch.compiler.is_compiling() or torch.jit.is_tracing() or torch._C._len_torch_dispatch_stack():
        return False
    if torch._C._functorch.peek_interpreter_stack() is not None:
        return False
    if any(type(t) not in (torch.Tensor, torch.nn.Parameter) for t in tensors):  # fake, functional, other subclasses
        return False
    return not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors))


def inline() -> bool:
    """True inside :func:`plain_torch`: the public op functions then return the reference inline."""
    return _plain


def torch_inline(op: str, x: torch.Tensor, *tensors: torch.Tensor | None) -> bool:
    """Whether ``op`` runs its PyTorch reference inline, outside the custom op: in :func:`plain_torch`,
    where :func:`autograd_inline` says so, and wherever the torch backend is the one the dispatcher
    would choose anyway and no gradient is needed, since the custom op's boundary (an output
    buffer, a copy into it) only costs there. The call is recorded as the torch backend's, as
    :func:`dispatch` records it."""
    if _plain:
        return True
    if torch.compiler.is_compiling():
        return False
    if _records_grad(x, *tensors):
        return autograd_inline(op, x, *tensors)
    backend, fell_from, _ = plan(op, x.device.type, implementations(op))
    if backend != "torch" or fell_from is not None:
        return False
    _record(Call(op, "torch", str(x.device), str(x.dtype).replace("torch.", ""), None, None))
    return True


def autograd_inline(op: str, x: torch.Tensor, *tensors: torch.Tensor | None) -> bool:
    """Whether ``op`` runs its PyTorch reference inline while autograd records, as the plain modules
    it replaces do: on the CPU, with no backend forced. There the custom ops (their boundary and
    hand-written backward, which recomputes to store less) made a training step of the search's
    networks up to 1.3x slower than plain PyTorch, CCA's ops most (docs/training.md); memory is
    seldom what a CPU lacks. A forced backend (:func:`use_backend`, ``SRKIT_BACKEND``) or :func:`through_ops` still
    runs the op, as its tests do; a GPU runs the fused kernels. Recorded as the torch backend's call."""
    # the gradient test first: an inference call (every image) leaves at the cheapest check; the
    # compile test before any ContextVar read, which Dynamo cannot trace
    if not _records_grad(x, *tensors) or x.device.type != "cpu" or torch.compiler.is_compiling():
        return False
    if _through.get() or preferred()[0] is not None:
        return False
    _record(Call(op, "torch", str(x.device), str(x.dtype).replace("torch.", ""), None, None))
    return True


def reference_inline(op: str, x: torch.Tensor, *tensors: torch.Tensor | None) -> bool:
    """Whether an op whose CPU choice is a kernel runs its reference inline: in :func:`plain_torch`,
    or where :func:`autograd_inline` says so. The public op functions ask this before :func:`call`."""
    return _plain or autograd_inline(op, x, *tensors)


def _records_grad(*tensors: torch.Tensor | None) -> bool:
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _record(call: Call) -> None:
    _last[call.op] = call
    calls = _trace.get()
    if calls is not None:
        calls.append(call)


def last_backend(op: str) -> str | None:
    """The backend that ran the most recent call of ``op`` (None if it never ran)."""
    call = _last.get(op)
    return call.backend if call else None


def last_call(op: str) -> Call | None:
    return _last.get(op)


def preferred() -> tuple[str | None, bool]:
    """The forced backend (context manager first, then ``SRKIT_BACKEND``) and whether it is strict."""
    forced = _forced.get()
    if forced is not None:
        return forced
    env = os.environ.get("SRKIT_BACKEND", "").strip().lower()
    if env and env != "auto":
        if env not in BACKENDS:
            raise ValueError(f"SRKIT_BACKEND={env!r} is not a backend; choose one of {', '.join(BACKENDS)} or auto")
        return env, False
    return None, False


@functools.cache
def _candidates(
    op: str, device_type: str, forced: str | None, implemented: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """The backends ``op`` tries on ``device_type`` (``forced`` first), each with why it cannot run
    whatever the arguments ('' when it can): the part of a plan that every call shares, made once."""
    order = list(default_order(op, device_type))
    if forced is not None:
        order = [forced] + [b for b in order if b != forced]
    return tuple(
        (b, unavailable_reason(b, device_type) or ("" if b in implemented else f"op {op} has no {b} implementation"))
        for b in order
    )


def plan(
    op: str, device_type: str, implemented: Mapping[str, object], unsupported: Callable[[str], str] | None = None
) -> tuple[str, str | None, str | None]:
    """(backend to run, backend it falls back from, why) for one call of ``op``."""
    forced, strict = preferred()
    candidates = _candidates(op, device_type, forced, tuple(sorted(implemented)))
    first = candidates[0][0]
    first_reason: str | None = None
    for b, reason in candidates:
        if not reason and unsupported is not None:
            reason = unsupported(b)  # depends on the call's arguments: never cached
        if not reason:
            if b == first:
                return b, None, None
            if strict:
                raise BackendUnavailable(f"srkit: op {op}: backend {first!r} cannot run: {first_reason}")
            return b, first, first_reason
        if b == first:
            first_reason = reason
            if strict:
                raise BackendUnavailable(f"srkit: op {op}: backend {first!r} cannot run: {reason}")
    raise BackendUnavailable(f"srkit: op {op}: no backend can run on {device_type} ({first_reason})")


def dispatch(
    op: str, device: torch.device, dtype: torch.dtype, unsupported: Callable[[str], str] | None = None
) -> Impl:
    """Choose, log and record the backend for one call of ``op``; return its implementation."""
    impls = implementations(op)
    backend, fell_from, reason = plan(op, device.type, impls, unsupported)
    call = Call(op, backend, str(device), str(dtype).replace("torch.", ""), fell_from, reason)
    if fell_from is not None:
        key = (op, fell_from, reason or "")
        with _lock:
            first_time = key not in _warned
            _warned.add(key)
        if first_time:
            log.warning("srkit: op %s: backend %r cannot run (%s); using %r", op, fell_from, reason, backend)
    _record(call)
    return impls[backend]


def report(device_type: str) -> dict[str, dict[str, str]]:
    """For ``srkit info``: per backend, 'ok' or why it cannot run on ``device_type``."""
    return {
        b: {"status": "ok" if not (r := unavailable_reason(b, device_type)) else "unavailable", "reason": r}
        for b in BACKENDS
    }
