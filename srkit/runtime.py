"""The runtime a model runs on by default: the fastest of srkit's on this device, measured once.

Runtimes: ``torch`` (PyTorch with srkit's ops, NCHW), ``channels_last`` (the same in NHWC, which
oneDNN's convolutions prefer on a CPU), ``compile`` (``torch.compile``; forced only, since its first
call compiles for tens of seconds), ``ort`` (ONNX Runtime on srkit's own export, CPU; the export is
made once and cached under ``$SRKIT_CACHE_DIR/onnx`` by the weights' hash, so it is never stale).

``auto`` times the candidates on this device in interleaved rounds (srkit.profiler.timing) at the LR
size the work runs at (each side rounded to a power of two, 16 to 512; 96x96 where the caller does
not know it), takes the fastest, and remembers the choice in ``$SRKIT_CACHE_DIR/runtime.json`` keyed
by the weights' hash, that size, the device, the precision and the thread count (the fastest runtime
changes with the size: a large network that wins in channels_last at 96x96 may win on ONNX Runtime
at 32x32); :class:`Choice` says what was
chosen and why, and every command prints it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import sys
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


def _remember(key: str, choice: Choice) -> None:
    path = cache.root() / "runtime.json"
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        table = {}
    measured = choice.reason.removeprefix("auto: ")
    atomic.write_json(
        path, {**table, key: {"runtime": choice.runtime, "measured": measured, "speedups": choice.speedups}}
    )


def choose(
    model: nn.Module,
    device: str | torch.device,
    dtype: torch.dtype = torch.float32,
    key: str | None = None,
    size: tuple[int, int] | None = None,
) -> Choice:
    """The fastest candidate runtime for ``model`` on ``device`` for work of LR ``size`` (None: not
    known), remembered after its first measurement."""
    dev = torch.device(device)
    key = key or weights_key(model)
    hw = probe_size(size)
    memo = _memo_key(key, dev, dtype, hw)
    had = _remembered(memo)
    if had is not None and had["runtime"] in candidates(dev, dtype):
        return Choice(had["runtime"], "auto, measured earlier on this device: " + had["measured"], had["speedups"])
    choice = measure_choice(model, dev, dtype, key, hw)
    _remember(memo, choice)
    return choice


def measure_choice(
    model: nn.Module,
    device: torch.device,
    dtype: torch.dtype,
    key: str | None = None,
    hw: tuple[int, int] = (PROBE, PROBE),
) -> Choice:
    from .models.base import pad_input
    from .profiler.timing import interleaved

    c = int(getattr(model, "in_channels", 3))
    x = pad_input(model, torch.rand(1, c, *hw, device=device, dtype=dtype))
    fns = {name: _forward(model, name, x, device, dtype, key) for name in candidates(device, dtype)}
    with torch.inference_mode():
        for fn in fns.values():
            fn()  # first calls (an export, oneDNN's kernel choice) are not timed
        res = interleaved(fns, device, baseline="torch", rounds=5, reps=3)
    speed = {n: round(s["median"], 3) for n, s in res.speedups.items()}
    best = max(speed, key=lambda n: speed[n])
    why = f"auto: {speed[best]:.2f}x torch at LR {hw[0]}x{hw[1]} on this device, of {', '.join(speed)}"
    return Choice(best, why, speed)


def _forward(
    model: nn.Module, name: str, x: torch.Tensor, device: torch.device, dtype: torch.dtype, key: str | None = None
) -> Callable[[], object]:
    if name == "ort":
        m = onnx_model(model, dtype, key)
        xc = x.cpu()
        return lambda: m(xc)
    m = copy.deepcopy(model).eval().to(device, dtype)  # a copy: the caller's model keeps its layout
    if name == "channels_last":
        m = m.to(memory_format=torch.channels_last)
        xl = x.contiguous(memory_format=torch.channels_last)
        return lambda: m(xl)
    return lambda: m(x)


def upscaler(
    model: nn.Module,
    runtime: str = "auto",
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    tile: int | None = None,
    overlap: int = 16,
    size: tuple[int, int] | None = None,
) -> tuple[Upscaler, Choice]:
    """An :class:`Upscaler` of ``model`` on ``runtime`` (``auto``: :func:`choose` for LR inputs of
    ``size``, or of the tile's), and the choice."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    key = weights_key(model) if runtime in ("auto", "ort") else None  # hashed once for the choice and the export
    work = (tile, tile) if tile else size
    choice = choose(model, device, dtype, key, work) if runtime == "auto" else Choice(runtime, "asked for", {})
    if choice.runtime == "ort":
        if torch.device(device).type != "cpu" or dtype != torch.float32:
            raise ValueError("runtime ort: srkit runs ONNX Runtime on the CPU in float32 (--device cpu --dtype fp32)")
        return Upscaler(onnx_model(model, dtype, key), device="cpu", tile=tile, overlap=overlap), choice
    up = Upscaler(
        model,
        device=device,
        dtype=dtype,
        tile=tile,
        overlap=overlap,
        channels_last=choice.runtime == "channels_last",
        compile=choice.runtime == "compile",
    )
    return up, choice
