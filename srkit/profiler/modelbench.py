"""``srkit-bench model``: end-to-end latency of zoo models, and where the time goes.

Variants of the same network and weights:

* ``eager``   -- PyTorch eager: srkit's ops as inline PyTorch (:func:`srkit.ops.plain_torch`);
* ``compile`` -- ``torch.compile`` of that (Inductor sees and fuses every op);
* ``srkit``   -- srkit's fused layers on the best backend of the device;

each also captured in a CUDA graph on a GPU (``+graph``). Per variant: median latency with spread,
images and megapixels per second, peak memory (GPU), the backends that ran, and how far the output
is from fp32 eager. :func:`breakdown` times every layer with hooks.
"""

from __future__ import annotations

import contextlib
import copy
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .. import ops
from ..models.base import padded_hw
from ..ops import dispatch
from .device import dtype_name
from .opbench import ran
from .timing import measure, sync

VARIANTS = ("eager", "compile", "srkit")  # srkit-bench's default rows
RUNTIMES = ("torch", "ort")  # what a search times candidates on: PyTorch (srkit's ops) or ONNX Runtime
ALL_VARIANTS = (*VARIANTS, "ort")  # "ort": the model exported to ONNX, run by ONNX Runtime (srkit[onnx])
RESOLUTIONS = {"360p": (360, 640), "540p": (540, 960), "720p": (720, 1280), "1080p": (1080, 1920), "4k": (2160, 3840)}


def parse_resolution(text: str) -> tuple[int, int]:
    """'720p' | '1080p' | ... | 'HxW' -> (H, W) of the SR output."""
    key = text.lower()
    if key in RESOLUTIONS:
        return RESOLUTIONS[key]
    m = re.fullmatch(r"(\d+)x(\d+)", key)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ValueError(f"resolution {text!r}: use one of {', '.join(RESOLUTIONS)} or HxW (e.g. 1080x1920)")
    return int(m.group(1)), int(m.group(2))


def lr_size(output_hw: tuple[int, int], scale: int, model: nn.Module | None = None) -> tuple[int, int]:
    """The LR input that gives (at least) the requested output at ``scale``, padded to what
    ``model`` needs (its minimum side and multiple), as :class:`srkit.Upscaler` would run it."""
    hw = -(-output_hw[0] // scale), -(-output_hw[1] // scale)
    return padded_hw(model, hw) if model is not None else hw


@dataclass(frozen=True)
class Setting:
    variant: str  # eager | compile | srkit | ort
    dtype: torch.dtype
    channels_last: bool = False
    cuda_graph: bool = False

    @property
    def label(self) -> str:
        return f"{self.variant}{'+graph' if self.cuda_graph else ''}"


class Runner:
    """A callable ``() -> output`` for one setting of one model, on a fixed input."""

    def __init__(self, model: nn.Module, x: torch.Tensor, s: Setting) -> None:
        self.setting = s
        m = copy.deepcopy(model).eval().to(x.device, s.dtype)
        self.x = x.to(s.dtype)
        if s.channels_last:
            m = m.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.model = m
        fwd: Callable[[torch.Tensor], torch.Tensor] = m
        if s.variant == "ort":
            fwd = OrtForward(model, self.x)
        elif s.variant == "compile":
            mode = "max-autotune-no-cudagraphs" if x.device.type == "cuda" else "default"
            fwd = torch.compile(m, mode=mode, dynamic=False)
        self.fwd = fwd
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_out: torch.Tensor | None = None
        self.calls: list[dispatch.Call] = []
        with torch.inference_mode():
            with dispatch.trace() as calls:
                out = self._eager()
            self.calls = calls
            self.first = out
            if s.cuda_graph:
                self._capture()

    def _eager(self) -> torch.Tensor:
        if self.setting.variant in ("srkit", "ort"):
            return self.fwd(self.x)
        with ops.plain_torch():
            return self.fwd(self.x)

    def _capture(self) -> None:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self._eager()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_out = self._eager()

    @torch.inference_mode()
    def __call__(self) -> torch.Tensor:
        if self.graph is not None:
            self.graph.replay()
            assert self.static_out is not None
            return self.static_out
        return self._eager()


class OrtForward:
    """``model`` exported to ONNX (static shapes, ``x``'s size and dtype) and run by ONNX Runtime on
    ``x``'s device (CPU execution provider; TensorRT's or CUDA's where installed and ``x`` is on a
    GPU; the row names the one that ran). The input
    is converted to NumPy once, so a call times the session alone."""

    def __init__(self, model: nn.Module, x: torch.Tensor) -> None:
        from ..export import OnnxModel, onnx_runtime, to_onnx_bytes

        have = onnx_runtime().get_available_providers()
        gpu = (
            [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in have]
            if x.device.type == "cuda"
            else []
        )
        self.provider = gpu[0] if gpu else "CPUExecutionProvider"  # TensorRT first where installed, as NTIRE times
        self.onnx = OnnxModel(to_onnx_bytes(model, dtype=x.dtype, dynamic=False, example=x), providers=[self.provider])
        self.feed = {self.onnx.input_name: x.detach().cpu().numpy()}
        self.device = x.device

    @property
    def backend(self) -> str:
        return "onnxruntime-" + self.provider.removesuffix("ExecutionProvider").lower()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        del x  # the input was fixed at construction
        return torch.from_numpy(self.onnx.session.run(None, self.feed)[0]).to(self.device)


def time_runtime(
    model: nn.Module,
    x: torch.Tensor,
    runtime: str = "torch",
    *,
    reps: int = 20,
    min_seconds: float = 0.25,
    max_seconds: float = 3.0,
) -> tuple[dict[str, Any], str]:
    """:func:`time_forward` on the runtime a user ships: ``torch`` (srkit's ops) or ``ort``."""
    if runtime == "torch":
        return time_forward(model, x, reps=reps, min_seconds=min_seconds, max_seconds=max_seconds)
    if runtime != "ort":
        raise ValueError(f"latency runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    fwd = OrtForward(model, x)
    t = measure(
        lambda: fwd(x),
        x.device,
        warmup=3,
        reps=reps,
        min_seconds=min(min_seconds, max_seconds),
        max_seconds=max_seconds,
    )
    return t.as_dict(), fwd.backend


def time_forward(
    model: nn.Module, x: torch.Tensor, *, reps: int = 20, min_seconds: float = 0.25, max_seconds: float = 3.0
) -> tuple[dict[str, Any], str]:
    """(timing, backends that ran) of ``model(x)`` in inference mode, ``model`` and ``x`` already
    on their device, dtype and layout: the one forward timer of the latency table and the search."""
    with torch.inference_mode():
        with dispatch.trace() as calls:
            model(x)
        t = measure(
            lambda: model(x),
            x.device,
            warmup=3,
            reps=reps,
            min_seconds=min(min_seconds, max_seconds),
            max_seconds=max_seconds,
        )
    return t.as_dict(), ran(calls)[0]


def output_error(out: torch.Tensor, ref: torch.Tensor) -> dict[str, float]:
    """Largest absolute difference, and PSNR (dB, on [0, 1]) of ``out`` against the reference."""
    d = out.float().cpu() - ref.float().cpu()
    mse = float(d.square().mean())
    return {
        "max_abs_diff": float(d.abs().max()),
        "psnr_vs_fp32_eager_dB": float("inf") if mse == 0 else float(-10 * torch.log10(torch.tensor(mse))),
    }


def bench_model(
    model: nn.Module,
    name: str,
    x: torch.Tensor,
    settings: list[Setting],
    *,
    reps: int = 20,
    warmup: int = 3,
    max_seconds: float = 10.0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per setting; ``x`` is the fp32 LR batch on the device."""
    with torch.inference_mode(), ops.plain_torch():
        ref = copy.deepcopy(model).eval().to(x.device, torch.float32)(x)
    scale = int(getattr(model, "scale", ref.shape[-1] // x.shape[-1]))
    rows = []
    for s in settings:
        if progress:
            progress(f"{name} {s.label} {dtype_name(s.dtype)}{' channels_last' if s.channels_last else ''}")
        base: dict[str, Any] = {
            "model": name,
            "scale": scale,
            "variant": s.label,
            "dtype": dtype_name(s.dtype),
            "channels_last": s.channels_last,
            "batch": x.shape[0],
            "lr_hw": list(x.shape[-2:]),
            "out_hw": list(ref.shape[-2:]),
        }
        rows.append(base | _time_setting(model, x, s, ref, reps=reps, warmup=warmup, max_seconds=max_seconds))
    _add_speedups(rows)
    return rows


def _time_setting(
    model: nn.Module, x: torch.Tensor, s: Setting, ref: torch.Tensor, *, reps: int, warmup: int, max_seconds: float
) -> dict[str, Any]:
    """Timing, distance from the fp32 reference and backend of one setting, or the error that stopped it."""
    dev = x.device
    try:
        if dev.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(dev)
        r = Runner(model, x, s)
        t = measure(r, dev, warmup=warmup, reps=reps, max_seconds=max_seconds)
        out = r()
        sync(dev)
        peak = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else None
    except Exception as e:  # noqa: BLE001 - a setting that cannot run is a row that says why
        return {"error": f"{type(e).__name__}: {e}"}
    backend, fallback = ran(r.calls) if s.variant == "srkit" else ("torch-" + s.variant, None)
    if isinstance(r.fwd, OrtForward):
        backend, fallback = r.fwd.backend, None
    per_s = 1.0 / (t.median_ms * 1e-3)
    return (
        t.as_dict()
        | output_error(out, ref)
        | {
            "backend_ran": backend,
            "fallback": fallback,
            "images_per_s": x.shape[0] * per_s,
            "megapixels_per_s": ref.shape[-2] * ref.shape[-1] * x.shape[0] * per_s / 1e6,
            "peak_memory_MiB": peak,
        }
    )


def _add_speedups(rows: list[dict[str, Any]]) -> None:
    """Each row's speed-up over eager at the same dtype and layout."""
    eager = {
        (r["dtype"], r["channels_last"]): r["median_ms"]
        for r in rows
        if r.get("variant") == "eager" and "median_ms" in r
    }
    for r in rows:
        e = eager.get((r["dtype"], r["channels_last"]))
        r["speedup_vs_eager"] = e / r["median_ms"] if e and "median_ms" in r else None


class _LayerTimer:
    """Forward hooks on every submodule recording each call's inclusive time (CUDA events on a GPU),
    tagged with the repetition it belongs to."""

    def __init__(self, model: nn.Module, cuda: bool) -> None:
        self.cuda, self.rep = cuda, 0
        self.samples: dict[str, list[tuple[int, Any]]] = defaultdict(list)  # module -> (repetition, time) per call
        self.kind: dict[str, str] = {}
        self._open: dict[str, Any] = {}
        self._handles: list[Any] = []
        for name, mod in model.named_modules():
            if name:
                self.kind[name] = type(mod).__name__
                self._handles += [
                    mod.register_forward_pre_hook(self._pre(name)),
                    mod.register_forward_hook(self._post(name)),
                ]

    def _now(self) -> Any:
        if not self.cuda:
            return time.perf_counter()
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        return e

    def _pre(self, name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: Any) -> None:
            self._open[name] = self._now()

        return hook

    def _post(self, name: str) -> Callable[..., None]:
        def hook(mod: nn.Module, args: Any, out: Any) -> None:
            start, end = self._open.pop(name), self._now()
            self.samples[name].append((self.rep, (start, end) if self.cuda else (end - start) * 1e3))

        return hook

    def remove(self) -> None:
        for h in self._handles:
            h.remove()

    def per_module(self, rep: int) -> dict[str, float]:
        """Milliseconds per module in repetition ``rep`` (a module called twice in a forward counts twice)."""
        per: dict[str, float] = defaultdict(float)
        for name, calls in self.samples.items():
            for r, v in calls:
                if r == rep:
                    per[name] += v[0].elapsed_time(v[1]) if self.cuda else v
        return per


def breakdown(
    model: nn.Module, x: torch.Tensor, dtype: torch.dtype, *, variant: str = "srkit", reps: int = 5
) -> list[dict[str, Any]]:
    """Per-layer time of one forward: inclusive time of every module (forward hooks; CUDA events
    on a GPU) in the forward whose total is the median of ``reps``. Rows: the model's direct children (and the code
    between them), then self time (a module's own, less its submodules') summed per module type;
    each with its share of the whole forward."""
    m = copy.deepcopy(model).eval().to(x.device, dtype)
    x = x.to(dtype)
    timer = _LayerTimer(m, x.device.type == "cuda")
    totals: list[float] = []
    ctx = ops.plain_torch if variant != "srkit" else contextlib.nullcontext
    with torch.inference_mode(), ctx():
        m(x)  # warm-up, not recorded
        sync(x.device)
        timer.samples.clear()
        for r in range(reps):
            timer.rep = r
            totals.append(measure(lambda: m(x), x.device, warmup=0, reps=1).median_ms)
    timer.remove()
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    # one consistent repetition, the one with the median total: its parts add up to its whole
    mid = sorted(range(reps), key=lambda r: totals[r])[reps // 2]
    return _breakdown_rows(timer.per_module(mid), timer.kind, totals[mid])


def _breakdown_rows(per: dict[str, float], kind: dict[str, str], total: float) -> list[dict[str, Any]]:
    rows = [
        {"level": "child", "layer": k, "type": kind[k], "ms": v, "share": v / total}
        for k, v in per.items()
        if "." not in k
    ]
    rest = max(0.0, total - sum(r["ms"] for r in rows))
    rows.append({"level": "child", "layer": "(code between children)", "type": "", "ms": rest, "share": rest / total})
    by_type: dict[str, float] = defaultdict(float)
    for k, v in per.items():  # self time: a module's time less that of its submodules that ran
        inner = sum(t for c, t in per.items() if c.startswith(k + ".") and "." not in c[len(k) + 1 :])
        by_type[kind[k]] += max(0.0, v - inner)
    rows += [
        {"level": "self time by type", "layer": k, "type": k, "ms": v, "share": v / total}
        for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])
    ]
    rows.append({"level": "total", "layer": "(whole forward, hooks on)", "type": "", "ms": total, "share": 1.0})
    return rows
