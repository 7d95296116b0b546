"""The runtime a model runs on by default: the fastest of srkit's on this device, measured once.

Runtimes: ``torch`` (PyTorch with srkit's ops, NCHW), ``channels_last`` (the same in NHWC, which
oneDNN's convolutions prefer on a CPU), ``compile`` (``torch.compile``), ``ort`` (ONNX Runtime on
srkit's own export, CPU; the export is made once and cached under ``$SRKIT_CACHE_DIR/onnx`` by the
weights' hash, so it is never stale).

``auto`` times the candidates on this device in interleaved rounds (srkit.profiler.timing) at the LR
size the work runs at (each side rounded to a power of two, 16 to 512; 96x96 where the caller does
not know it), and remembers the measurement in ``$SRKIT_CACHE_DIR/runtime.json`` keyed by the
weights' hash, that size, the device, the precision and the thread count (the fastest runtime
changes with the size: a large network that wins in channels_last at 96x96 may win on ONNX Runtime
at 32x32). Trying a runtime costs its setup and its timing rounds, so ``auto`` tries only what
the amount of work can pay for: nothing is measured for work of fewer than ``MEASURE_CALLS`` calls
(that runs :func:`unmeasured`'s runtime, without hashing the weights); the rounds take at most
``CHOICE_SHARE`` of the work's calls; ONNX Runtime (an export) is tried only for work of
``ORT_WORK_S`` seconds, ``compile`` for ``COMPILE_WORK_S``, and compile is taken where the time it
saves exceeds its first call. A near tie is measured again by later work until ``SETTLED``
measurements stand behind it. :class:`Choice` says what was chosen and why; every command prints it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import __version__, atomic, cache
from .inference import Upscaler

RUNTIMES = ("auto", "torch", "channels_last", "compile", "ort")
# the commands' default; the test suite sets SRKIT_RUNTIME=torch so that only the tests of the choice export models
DEFAULT = os.environ.get("SRKIT_RUNTIME", "auto")
PROBE = 96  # LR side the choice is measured at where the work's size is unknown
# compile is tried only for work that takes this long on torch or channels_last: its first call
# compiled for 0.2-29 s on 2 CPU cores (bench/results/default_runtime_cpu_*.json), and it ran at most
# 1.27x the default there, so shorter work cannot pay for the compile
COMPILE_WORK_S = 120.0
# ONNX Runtime is tried only for work that takes this long on torch or channels_last:
# its export took 0.7-59 s on 2 CPU cores (RCAN's the most; the same record), a cost short work
# cannot recover
ORT_WORK_S = 10.0
WORK_S = {"ort": ORT_WORK_S, "compile": COMPILE_WORK_S}  # the least work each costly runtime is tried for
# work of fewer calls (images, or tiles) runs unmeasured: timing two runtimes takes about ten calls,
# more than the 10-30% between them can win back on less
MEASURE_CALLS = 100
CHOICE_SHARE = 0.1  # the timing rounds take at most this share of the work's calls (at least 3 rounds)
# a choice whose best two runtimes are this close per image is measured again by later work, and
# the measurements' median taken, until SETTLED of them: one process's slow spell (ONNX Runtime at
# 0.84-0.89x torch on ESPCN where it reads 1.28-1.53x elsewhere) then cannot decide it alone
NEAR_TIE = 0.10
SETTLED = 3


@dataclass(frozen=True)
class Choice:
    runtime: str
    reason: str  # how it was chosen, for the user
    speedups: dict[str, float]  # each candidate's median speed-up over torch, where measured

    def line(self) -> str:
        return f"runtime: {self.runtime} ({self.reason})"


def weights_key(model: nn.Module) -> str:
    """sha256 (16 hex) of the network's class, its tensors' names and bytes, srkit's and torch's
    versions: a different file, a changed weight or an upgrade gives another key."""
    h = hashlib.sha256(f"{type(model).__qualname__}|{__version__}|{torch.__version__}".encode())
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())  # 0-dim too
    return h.hexdigest()[:16]


def onnx_model(model: nn.Module, dtype: torch.dtype = torch.float32, key: str | None = None) -> nn.Module:
    """``model`` as an :class:`srkit.export.OnnxModel` (dynamic sizes), exported once per weights
    (``key``: their :func:`weights_key`, where the caller has it already)."""
    from .export import OnnxModel, to_onnx_bytes

    path = cache.root() / "onnx" / f"{key or weights_key(model)}_{str(dtype).removeprefix('torch.')}.onnx"
    if not path.is_file():
        print(f"exporting {type(model).__name__} to ONNX once (kept in {path.parent})", file=sys.stderr)
        atomic.write_bytes(path, to_onnx_bytes(model, dtype=dtype, dynamic=True))
    return OnnxModel(path, threads=torch.get_num_threads())


def candidates(device: torch.device, dtype: torch.dtype = torch.float32) -> tuple[str, ...]:
    """What ``auto`` chooses among: ONNX Runtime only on a CPU in float32 (where srkit runs it)."""
    if device.type == "cpu" and dtype == torch.float32 and _have_ort():
        return ("torch", "channels_last", "ort")
    return ("torch", "channels_last")


def _have_ort() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def probe_size(size: tuple[int, int] | None) -> tuple[int, int]:
    """The LR size a choice is measured at for work of LR ``size``: each side rounded to the nearest
    power of two within 16-512, so nearby sizes share one measurement; (PROBE, PROBE) for None."""
    if size is None:
        return PROBE, PROBE
    h, w = (min(512, max(16, 2 ** round(math.log2(max(1, s))))) for s in size)
    return h, w


def _memo_key(key: str, device: torch.device, dtype: torch.dtype, hw: tuple[int, int]) -> str:
    from .profiler.device import fingerprint, slug

    where = slug(fingerprint(str(device)))
    size = "" if hw == (PROBE, PROBE) else f"|lr={hw[0]}x{hw[1]}"  # the key's form before sizes counted
    return f"{key}|{where}|{str(dtype).removeprefix('torch.')}|threads={torch.get_num_threads()}{size}"


def _remembered(key: str) -> dict | None:
    try:
        return json.loads((cache.root() / "runtime.json").read_text()).get(key)
    except (OSError, ValueError):
        return None


def _remember(key: str, measured: dict) -> None:
    path = cache.root() / "runtime.json"
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        table = {}
    atomic.write_json(path, {**table, key: measured})


def choose(
    model: nn.Module,
    device: str | torch.device,
    dtype: torch.dtype = torch.float32,
    key: str | None = None,
    size: tuple[int, int] | None = None,
    images: int = 1,
) -> Choice:
    """The runtime that does ``images`` calls on LR ``size`` (None: not known) on ``device`` the
    soonest, trying only what that much work can pay for (see the module's text). Measured per
    weights, size and device, remembered, and measured again where later work affords more rounds
    or another runtime."""
    dev = torch.device(device)
    if images < MEASURE_CALLS:  # not even hashed: the weights' hash takes a large model's first call's time
        return unmeasured(dev, images)
    hw = probe_size(size)
    key = key or weights_key(model)  # once, for the memo and an export
    memo = _memo_key(key, dev, dtype, hw)
    runtimes = (*candidates(dev, dtype), "compile")
    m = _remembered(memo)
    if m is not None and "torch_ms" not in m:
        m = None  # a measurement of an older srkit, which did not keep torch's time
    cheap = tuple(r for r in runtimes if r not in WORK_S)
    fresh = _stale(m, cheap, images)
    if fresh:  # what was measured before, measured again with the rounds this work affords
        names = tuple(dict.fromkeys((*cheap, *(m["speedups"] if m else ()))))
        m = measure_choice(model, dev, dtype, key, hw, names, images)
    # work_s reads torch and channels_last alone, so every costly runtime the work affords is known
    # now and timed in one run beside the others (not one run each)
    costly = tuple(r for r in runtimes if r in WORK_S and r not in m["speedups"] and work_s(m, images) >= WORK_S[r])
    if costly:
        m = measure_choice(model, dev, dtype, key, hw, (*m["speedups"], *costly), images)
        fresh = True
    if not fresh and _near_tie(m, images, runtimes):
        m = _pooled(m, measure_choice(model, dev, dtype, key, hw, tuple(m["speedups"]), images))
        fresh = True
    if fresh:
        _remember(memo, m)
    return pick(m, images, runtimes, earlier=not fresh)


def _near_tie(m: dict, images: int, runtimes: tuple[str, ...]) -> bool:
    """Whether ``m``'s best two runtimes for this work lie within ``NEAR_TIE`` of each other and
    fewer than ``SETTLED`` measurements stand behind it."""
    t = sorted(_totals(m, images, runtimes).values())
    return len(t) > 1 and t[1] <= t[0] * (1 + NEAR_TIE) and len(m.get("history", [m])) < SETTLED


def _pooled(m: dict, new: dict) -> dict:
    """Measurement ``new`` of the same runtimes pooled with ``m``: each speed-up the median of every
    measurement's; compile's first call the longest."""
    history = [*m.get("history", [m["speedups"]]), new["speedups"]]
    speed = {r: round(statistics.median(h[r] for h in history), 3) for r in new["speedups"]}
    pooled = new | {"speedups": speed, "history": history}
    return pooled | ({"compile_s": max(m["compile_s"], new["compile_s"])} if "compile_s" in new else {})


def unmeasured(device: torch.device, images: int) -> Choice:
    """The runtime for work too short to measure for: channels_last on a CPU (as fast as torch or
    faster for 27 of the 28 zoo models there, the exception at 0.94x), torch elsewhere (srkit's
    kernels on a GPU). The costly runtimes could not pay for themselves on such work either."""
    best = "channels_last" if device.type == "cpu" else "torch"
    return Choice(best, f"auto, not measured: {images} call(s) cannot pay for timing the runtimes", {})


def _stale(m: dict | None, cheap: tuple[str, ...], images: int) -> bool:
    """Whether ``images`` calls of work need measurement ``m`` made (again): none, one without a
    runtime that costs nothing to try, or one of fewer rounds than this work affords."""
    if m is None or not set(cheap) <= set(m["speedups"]):
        return True
    return _calls(m) < math.prod(_plan(images, tuple(m["speedups"])))


def _plan(images: int, names: tuple[str, ...]) -> tuple[int, int]:
    """(rounds, calls per round) of the choice's timing: ``CHOICE_SHARE`` of the work's calls shared
    by ``names``, at least 3 rounds of one call, at most 5 rounds of 3 (15 beside compile: runtimes
    10-15% apart swapped places between 5-round measurements on 2 busy cores)."""
    calls = max(3, int(CHOICE_SHARE * images / len(names)))
    rounds = min(calls, 15 if "compile" in names else 5)
    return rounds, max(1, min(3, calls // rounds))


def _calls(m: dict) -> int:
    """Timed calls per candidate behind measurement ``m`` (an older srkit's: as many as it allowed)."""
    return int(m.get("calls", math.prod(_plan(10**9, tuple(m["speedups"])))))


def per_image_s(m: dict, runtimes: tuple[str, ...] | None = None) -> dict[str, float]:
    """Seconds per image on each of ``runtimes`` (None: every one) that ``m`` measured."""
    return {r: m["torch_ms"] / 1000 / s for r, s in m["speedups"].items() if runtimes is None or r in runtimes}


def work_s(m: dict, images: int) -> float:
    """Seconds ``images`` calls take on the fastest runtime that costs nothing to try (torch,
    channels_last): what a costly one must win its setup back from."""
    return images * min(t for r, t in per_image_s(m).items() if r not in WORK_S)


def _totals(m: dict, images: int, runtimes: tuple[str, ...]) -> dict[str, float]:
    """Seconds ``images`` calls take on each of ``runtimes`` that ``m`` measured and the work can pay
    for (``WORK_S`` of :func:`work_s`), compile's first call included."""
    work = work_s(m, images)
    total = {r: images * t for r, t in per_image_s(m, runtimes).items() if work >= WORK_S.get(r, 0.0)}
    if "compile" in total:
        total["compile"] += m["compile_s"]
    return total


def pick(m: dict, images: int, runtimes: tuple[str, ...], earlier: bool = False) -> Choice:
    """The runtime of least total time for ``images`` images, of ``runtimes`` that ``m`` measured and
    the work can pay for (``WORK_S`` of :func:`work_s`): per image, plus compile's first call."""
    total = _totals(m, images, runtimes)
    best = min(total, key=lambda r: total[r])
    h, w = m["lr"]
    why = f"{m['speedups'][best]:.2f}x torch at LR {h}x{w} on this device, of {', '.join(total)}"
    if "compile" in total:
        why += f"; compile's first call took {m['compile_s']:.1f} s, weighed against {images} image(s)"
    if "history" in m:
        why += f"; the median of {len(m['history'])} measurements"
    speed = {r: s for r, s in m["speedups"].items() if r in runtimes}
    return Choice(best, ("auto, measured earlier on this device: " if earlier else "auto: ") + why, speed)


def measure_choice(
    model: nn.Module,
    device: torch.device,
    dtype: torch.dtype,
    key: str | None = None,
    hw: tuple[int, int] = (PROBE, PROBE),
    names: tuple[str, ...] | None = None,
    images: int = 10**9,
) -> dict:
    """The speed-up over torch of each of ``names`` (default: :func:`candidates`; torch is always
    timed) at LR ``hw``, timed together in interleaved rounds as many as ``images`` calls of work
    afford (:func:`_plan`), and torch's ms per image; with ``compile`` among them, its first call (the
    compile; a cold cache's, so an upper bound) as ``compile_s``."""
    from .profiler.timing import interleaved

    x = _probe_input(model, device, dtype, hw)
    names = tuple(dict.fromkeys(("torch", *(names or candidates(device, dtype)))))
    fns = {name: _forward(model, name, x, device, dtype, key) for name in names}
    first: dict[str, float] = {}
    rounds, reps = _plan(images, names)
    with torch.inference_mode():
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()  # first calls (a compile, an export, oneDNN's kernel choice) are not timed
            first[name] = time.perf_counter() - t0
        res = interleaved(fns, device, baseline="torch", rounds=rounds, reps=reps)
    speed = {n: round(s["median"], 3) for n, s in res.speedups.items()}
    m = {"speedups": speed, "torch_ms": res.timings["torch"].median_ms, "lr": list(hw), "calls": rounds * reps}
    return m | ({"compile_s": first["compile"]} if "compile" in names else {})


def _probe_input(model: nn.Module, device: torch.device, dtype: torch.dtype, hw: tuple[int, int]) -> torch.Tensor:
    from .models.base import pad_input

    c = int(getattr(model, "in_channels", 3))
    return pad_input(model, torch.rand(1, c, *hw, device=device, dtype=dtype))


def _forward(
    model: nn.Module, name: str, x: torch.Tensor, device: torch.device, dtype: torch.dtype, key: str | None = None
) -> Callable[[], object]:
    up = engine(model if name == "ort" else copy.deepcopy(model), name, device=device, dtype=dtype, key=key)
    xi = x.cpu() if name == "ort" else x  # a copy of the model: the caller's keeps its layout
    return lambda: up.forward(xi)


def engine(
    model: nn.Module,
    runtime: str,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    tile: int | None = None,
    overlap: int = 16,
    key: str | None = None,
) -> Upscaler:
    """The :class:`Upscaler` that runs ``model`` on ``runtime`` (not ``auto``): the one place a
    runtime's name becomes what runs, for the commands, the choice's timing and ``srkit-bench``'s
    default rows alike. ``model`` is moved to ``device`` and ``dtype``, and changes layout for
    ``channels_last``; ``key``: its :func:`weights_key`, where the caller has it (``ort``)."""
    if runtime == "ort":
        if torch.device(device).type != "cpu" or dtype != torch.float32:
            raise ValueError("runtime ort: srkit runs ONNX Runtime on the CPU in float32 (--device cpu --dtype fp32)")
        return Upscaler(onnx_model(model, dtype, key), device="cpu", tile=tile, overlap=overlap)
    if runtime not in RUNTIMES or runtime == "auto":
        raise ValueError(f"runtime {runtime!r}: one of {', '.join(r for r in RUNTIMES if r != 'auto')}")
    return Upscaler(
        model,
        device=device,
        dtype=dtype,
        tile=tile,
        overlap=overlap,
        channels_last=runtime == "channels_last",
        compile=runtime == "compile",
    )


def upscaler(
    model: nn.Module,
    runtime: str = "auto",
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    tile: int | None = None,
    overlap: int = 16,
    size: tuple[int, int] | None = None,
    images: int = 1,
) -> tuple[Upscaler, Choice]:
    """An :class:`Upscaler` of ``model`` on ``runtime`` (``auto``: :func:`choose` for ``images`` LR
    inputs of ``size``, or of the tile's, where the tiles count as the images), and the choice."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    work, count = ((tile, tile), images * _tiles(size, tile)) if tile else (size, images)
    measured = runtime == "auto" and count >= MEASURE_CALLS
    key = weights_key(model) if runtime == "ort" or measured else None  # hashed once for the choice and the export
    choice = choose(model, device, dtype, key, work, count) if runtime == "auto" else Choice(runtime, "asked for", {})
    up = engine(model, choice.runtime, device=device, dtype=dtype, tile=tile, overlap=overlap, key=key)
    return up, choice


def _tiles(size: tuple[int, int] | None, tile: int) -> int:
    """Tiles per image of LR ``size`` (1 where unknown): the calls the work makes."""
    return 1 if size is None else math.ceil(size[0] / tile) * math.ceil(size[1] / tile)
