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
import statistics
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
from . import timing
from .device import dtype_name
from .opbench import ran
from .timing import measure, sync

VARIANTS = ("eager", "compile", "srkit")  # srkit-bench's default rows
# what a search or a latency table times candidates on: PyTorch with srkit's ops (NCHW, or
# channels_last, which oneDNN's convolutions prefer on a CPU) or ONNX Runtime on the model's export
# (srkit[onnx]); "default": what srkit upscale and Upscaler.load run when no runtime is named
# (srkit.runtime's measured choice)
RUNTIMES = ("torch", "channels_last", "ort")
ALL_VARIANTS = (*VARIANTS, "ort", "default")
TIMING_METHOD = (
    "every setting built and warmed up first (first_call_s: construction, compile or export, first call); then "
    "all timed together in interleaved rounds, the order rotated each round; median [min, max] over the rounds' "
    "medians; speed-ups over eager taken within each round; torch and ONNX Runtime on the same thread count"
)
PAIR_SECONDS = 3.0  # each of a head-to-head pair's timed calls take about this long in all (max_seconds bounds it)
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
    images: int = 1  # default: the amount of work srkit.runtime chooses for (compile only for long work)

    @property
    def label(self) -> str:
        work = f"@{self.images}" if self.variant == "default" and self.images != 1 else ""
        return f"{self.variant}{work}{'+graph' if self.cuda_graph else ''}"


class Runner:
    """A callable ``() -> output`` for one setting of one model, on a fixed input."""

    def __init__(self, model: nn.Module, x: torch.Tensor, s: Setting, *, own: bool = False) -> None:
        """``own``: the runner may change ``model`` itself (a caller that keeps no use of it, as a
        first image's timing: a user's program does not copy its model)."""
        self.setting = s
        m = model if own else copy.deepcopy(model)
        if s.variant != "default":  # the default's engine moves it, as Upscaler.load's does
            m = m.eval().to(x.device, s.dtype)
        self.x = x.to(s.dtype)
        if s.channels_last:
            m = m.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.model = m
        fwd: Callable[[torch.Tensor], torch.Tensor] = m
        self.choice = None
        if s.variant == "default":
            fwd = self._default(model, x, s)
        elif s.variant == "ort":
            fwd = OrtForward(model, self.x)
        elif s.variant == "compile":
            mode = "max-autotune-no-cudagraphs" if x.device.type == "cuda" else "default"
            fwd = torch.compile(m, mode=mode, dynamic=False)
        self.fwd = fwd
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_out: torch.Tensor | None = None
        self.calls: list[dispatch.Call] = []
        self.first_call_s = 0.0  # construction and first call (compiles, exports), set by whoever times it
        self.error: dict[str, float] = {}  # the first output's distance from the fp32 reference
        with torch.inference_mode():
            with dispatch.trace() as calls:
                out = self._eager()
            self.calls = calls
            self.first = out
            if s.cuda_graph:
                self._capture()

    def _default(self, model: nn.Module, x: torch.Tensor, s: Setting) -> Callable[[torch.Tensor], torch.Tensor]:
        """srkit's default runtime for this model on this device, as srkit.runtime chooses it and
        srkit.Upscaler runs it (on a copy: the eager rows keep theirs)."""
        from .. import runtime as rt

        self.choice = rt.choose(model, x.device, s.dtype, size=tuple(x.shape[-2:]), images=s.images)
        # the runner's own copy, as a user's model: the caller's keeps its layout
        up = rt.engine(self.model, self.choice.runtime, device=x.device, dtype=s.dtype)
        return up.forward

    def _eager(self) -> torch.Tensor:
        if self.setting.variant in ("srkit", "ort", "default"):
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
        onnx = to_onnx_bytes(model, dtype=x.dtype, dynamic=False, example=x)
        # as many intra-op threads as torch uses, so the two runtimes are compared on equal cores
        self.onnx = OnnxModel(onnx, providers=[self.provider], threads=torch.get_num_threads())
        self.feed = {self.onnx.input_name: x.detach().cpu().numpy()}
        self.device = x.device

    @property
    def backend(self) -> str:
        return "onnxruntime-" + self.provider.removesuffix("ExecutionProvider").lower()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        del x  # the input was fixed at construction
        return torch.from_numpy(self.onnx.session.run(None, self.feed)[0]).to(self.device)


def runtime_call(model: nn.Module, x: torch.Tensor, runtime: str = "torch") -> tuple[Callable[[], object], str]:
    """``model(x)`` as a zero-argument call on the runtime a user ships: ``torch`` (srkit's ops),
    ``channels_last`` (the same on a channels_last copy of the model and input) or ``ort``; and the
    backend that ran it. Its first call is made here (exports and kernel choices are not timed)."""
    if runtime == "ort":
        fwd = OrtForward(model, x)
        fwd(x)
        return (lambda: fwd(x)), fwd.backend
    if runtime not in RUNTIMES:
        raise ValueError(f"latency runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    m, xi = model, x
    if runtime == "channels_last":  # a copy: the caller's model keeps its layout
        m = copy.deepcopy(model).to(memory_format=torch.channels_last)
        xi = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), dispatch.trace() as calls:
        m(xi)
    return (lambda: m(xi)), ran(calls)[0]


def time_runtime(
    model: nn.Module,
    x: torch.Tensor,
    runtime: str = "torch",
    *,
    reps: int = 20,
    min_seconds: float = 0.25,
    max_seconds: float = 3.0,
) -> tuple[dict[str, Any], str]:
    """(timing, backend) of :func:`runtime_call`: the one forward timer of the latency table."""
    fn, backend = runtime_call(model, x, runtime)
    with torch.inference_mode():
        t = measure(
            fn, x.device, warmup=3, reps=reps, min_seconds=min(min_seconds, max_seconds), max_seconds=max_seconds
        )
    return t.as_dict(), backend


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
    rounds: int = 5,
    progress: Callable[[str], None] | None = None,
    pairs: Callable[[list[dict[str, Any]]], list[tuple[int, int]]] | None = None,
) -> list[dict[str, Any]]:
    """One row per setting; ``x`` is the fp32 LR batch on the device. Every setting is built and
    warmed up first (its first call, compiles and exports included, is reported as
    ``first_call_s``), then all are timed together in interleaved rounds
    (:func:`srkit.profiler.timing.interleaved`): speed-ups over eager are taken within each round.
    ``pairs``: given the timed rows, the (i, j) of rows to time again head to head (:func:`head_to_head`)."""
    plain = copy.deepcopy(model).eval().to(x.device, torch.float32)  # outside inference mode: normal tensors
    with torch.inference_mode(), ops.plain_torch():
        ref = plain(x)
    scale = int(getattr(model, "scale", ref.shape[-1] // x.shape[-1]))
    rows, runners = [], {}
    for s in settings:
        if progress:
            progress(f"{name} {s.label} {dtype_name(s.dtype)}{' channels_last' if s.channels_last else ''}")
        row: dict[str, Any] = {
            "model": name,
            "scale": scale,
            "variant": s.label,
            "dtype": dtype_name(s.dtype),
            "channels_last": s.channels_last,
            "batch": x.shape[0],
            "lr_hw": list(x.shape[-2:]),
            "out_hw": list(ref.shape[-2:]),
        }
        built = _build(model, x, s, ref, warmup)
        if isinstance(built, Runner):
            runners[len(rows)] = built
        else:
            row |= built
        rows.append(row)
    _time_together(rows, runners, x, reps=reps, rounds=rounds, max_seconds=max_seconds)
    for i, j in pairs(rows) if pairs else []:
        if i in runners and j in runners:
            head_to_head(rows, runners, i, j, reps=2 * reps, rounds=2 * rounds, max_seconds=max_seconds)
    return rows


def row_label(row: dict[str, Any]) -> str:
    """A row's variant, ``+cl`` for channels_last: the name a verdict reads it by."""
    return row["variant"] + ("+cl" if row["channels_last"] else "")


def head_to_head(
    rows: list[dict[str, Any]],
    runners: dict[int, Runner],
    i: int,
    j: int,
    *,
    reps: int,
    rounds: int,
    max_seconds: float,
) -> None:
    """Rows ``i`` and ``j`` timed again, the two alone in interleaved rounds: row j's
    ``head_to_head[row i's variant]`` is i's time over j's per round, median [min, max]. Beside five
    other runtimes, two ONNX Runtime sessions of one model read 0.85-1.18 of each other on a 2-core VM;
    alone, 0.95-1.02 (bench/results/ort_aa_*.json): a pair says what the full rows cannot resolve."""
    warm = max(_warm_call_s(runners[k]) for k in (i, j)) or 1e-9
    calls = max(3, min(max(reps, int(PAIR_SECONDS / warm)), int(max_seconds / warm)))  # fast calls: many a round
    n_rounds = min(rounds, calls)
    per_round = max(1, calls // n_rounds)
    pair = {"i": runners[i], "j": runners[j]}
    res = timing.interleaved(pair, runners[j].x.device, rounds=n_rounds, reps=per_round)
    ratios = [a / b for a, b in zip(res.round_ms["i"], res.round_ms["j"], strict=True)]
    label = row_label(rows[i])
    rows[j].setdefault("head_to_head", {})[label] = {
        "median": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "rounds": n_rounds,
        "round_ms": {label: res.round_ms["i"], "self": res.round_ms["j"]},
    }


def _build(model: nn.Module, x: torch.Tensor, s: Setting, ref: torch.Tensor, warmup: int) -> Runner | dict[str, Any]:
    """The setting's runner, built and warmed up, or the error that stopped it (as a row's fields)."""
    try:
        t0 = time.perf_counter()
        r = Runner(model, x, s)
        sync(x.device)
        r.first_call_s = time.perf_counter() - t0
        for _ in range(warmup):
            r()
        sync(x.device)
    except Exception as e:  # noqa: BLE001 - a setting that cannot run is a row that says why
        return {"error": f"{type(e).__name__}: {e}"}
    r.error = output_error(r.first, ref)
    return r


def _plan(runners: dict[int, Runner], reps: int, rounds: int, max_seconds: float) -> tuple[int, int]:
    """(rounds, calls per round): ``reps`` calls per setting in all, fewer (at least 3 rounds of
    one) where the slowest setting's warm call says they would take past ``max_seconds`` per
    setting. A warm call, not the first: a first call that compiled or exported for seconds would
    cut every row to 3 rounds of one call."""
    slowest = max(_warm_call_s(r) for r in runners.values())
    total = reps if slowest * reps <= max_seconds else max(3, int(max_seconds / max(slowest, 1e-9)))
    rounds = max(1, min(rounds, total))
    return rounds, max(1, total // rounds)


def _warm_call_s(r: Runner) -> float:
    """Seconds of one call of ``r`` after its first."""
    device = r.x.device
    sync(device)
    t0 = time.perf_counter()
    r()
    sync(device)
    return time.perf_counter() - t0


def _time_together(
    rows: list[dict[str, Any]],
    runners: dict[int, Runner],
    x: torch.Tensor,
    *,
    reps: int,
    rounds: int,
    max_seconds: float,
) -> None:
    if not runners:
        return
    n_rounds, per_round = _plan(runners, reps, rounds, max_seconds)
    if x.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(x.device)
    res = timing.interleaved({str(i): r for i, r in runners.items()}, x.device, rounds=n_rounds, reps=per_round)
    for i, r in runners.items():
        rows[i] |= _timed_row(r, res.timings[str(i)], x) | {
            "rounds": n_rounds,
            "round_ms": res.round_ms[str(i)],
            "first_call_s": r.first_call_s,
            "load_1min_before": res.noise["load_1min_before"],
            "load_1min_after": res.noise["load_1min_after"],
        }
    _add_speedups(rows, res.round_ms)


def _timed_row(r: Runner, t: timing.Timing, x: torch.Tensor) -> dict[str, Any]:
    s = r.setting
    backend, fallback = ran(r.calls) if s.variant in ("srkit", "default") else ("torch-" + s.variant, None)
    if isinstance(r.fwd, OrtForward):
        backend, fallback = r.fwd.backend, None
    if r.choice is not None:  # the default path names the runtime it chose
        backend = f"{r.choice.runtime}" + (f" ({backend})" if r.choice.runtime != "ort" else " (onnxruntime-cpu)")
    per_s = 1.0 / (t.median_ms * 1e-3)
    out_px = r.first.shape[-2] * r.first.shape[-1]
    peak = torch.cuda.max_memory_allocated(x.device) / 2**20 if x.device.type == "cuda" else None
    return (
        t.as_dict()
        | r.error
        | {
            "backend_ran": backend,
            "fallback": fallback,
            "images_per_s": x.shape[0] * per_s,
            "megapixels_per_s": out_px * x.shape[0] * per_s / 1e6,
            "peak_memory_MiB": peak,
            "threads": torch.get_num_threads(),
        }
    )


def _add_speedups(rows: list[dict[str, Any]], round_ms: dict[str, list[float]]) -> None:
    """Each row's speed-up over eager at the same dtype and layout, taken round by round: the
    median with [min, max] over the rounds."""
    eager = {(r["dtype"], r["channels_last"]): str(i) for i, r in enumerate(rows) if r.get("variant") == "eager"}
    for i, r in enumerate(rows):
        e = eager.get((r["dtype"], r["channels_last"]))
        if e is None or e not in round_ms or str(i) not in round_ms:
            r["speedup_vs_eager"] = None
            continue
        ratios = [a / b for a, b in zip(round_ms[e], round_ms[str(i)], strict=True)]
        r["speedup_vs_eager"] = statistics.median(ratios)
        r["speedup_vs_eager_min"], r["speedup_vs_eager_max"] = min(ratios), max(ratios)


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
