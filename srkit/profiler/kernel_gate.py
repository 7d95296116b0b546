"""The compile gate: every Triton kernel, at the launches its launcher really makes, compiled for
real GPUs (sm_80, sm_90) on a machine without one, and checked for what would fail or crawl there.

Triton's interpreter runs the kernels on the CPU but hides what real hardware rejects (shared
memory over the limit, register spills, missing tensor-core instructions, minutes of compile
time). The gate:

1. *records* launches instead of running them: ``JITFunction.run`` is swapped for a recorder while
   srkit's public ops are called (benchmark cases at the GPU shapes, sweeps over channels, dtypes,
   layouts and metric inputs, forward and backward, and whole zoo models), with the dispatcher
   forced to Triton. The configurations therefore come from the launchers themselves: a new
   launcher choice is gated without editing this file.
2. *compiles* each recorded launch with Triton's own binder (``warmup``: the specialisation a CUDA
   launch gets) against a stand-in driver that reports the target GPU; Triton's cache keeps
   repeated runs cheap.
3. *inspects* each distinct compiled kernel: shared memory against the target's limit, registers
   and spills (``cuobjdump`` on the cubin), threads x registers per SM, tensor-core instructions
   (wgmma on sm_90, mma on sm_80) wherever a product takes fp16/bf16/tf32 operands, grid limits,
   and compile seconds.

Run it in a process where ``TRITON_INTERPRET`` is unset (``python -m srkit.profiler.kernel_gate``);
the test suite does that in a subprocess.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class Target:
    """A GPU generation: compute capability and the per-block / per-SM limits a launch must meet."""

    name: str
    arch: int
    shared_bytes: int  # opt-in maximum dynamic shared memory per block
    regs_per_sm: int = 65536
    max_regs_per_thread: int = 255
    max_threads: int = 1024
    tensor_core_op: str = "mma"


TARGETS = {
    "sm_80": Target("sm_80", 80, 163 * 1024, tensor_core_op="mma.sync"),
    "sm_90": Target("sm_90", 90, 227 * 1024, tensor_core_op="wgmma"),
}
GRID_LIMITS = (2**31 - 1, 65535, 65535)

# (kernel, product operand type) allowed to spill: (at most this many bytes per thread, why).
# (The fused WDSR-A kernel is not launched in IEEE fp32 at all: srkit.ops.wdsr_a_fused declines it.)
SPILL_OK: dict[tuple[str, str], tuple[int, str]] = {
    ("_wide_pointwise_backward_kernel", "f32"): (
        32,
        "IEEE fp32 only (TF32 turned off): 16 B on sm_80 at C >= 48 with "
        "Triton 3.6's ptxas; every tile and warp count tried spills under one of "
        "Triton 3.6 and 3.9",
    ),
    ("_wide_pointwise_backward_kernel", "f32-tf32"): (
        32,
        "sm_80 at C >= 48: 16 B; the smaller tile that avoids it "
        "(32 pixels) loses wgmma on sm_90, and a K of 8 fails on Triton 3.6",
    ),
}


@dataclass
class Launch:
    label: str
    kernel: str
    fn: Any = field(repr=False)
    grid: tuple[int, ...]
    args: tuple[Any, ...] = field(repr=False)
    kwargs: dict[str, Any] = field(repr=False)


@dataclass
class Finding:
    """One distinct compiled kernel on one target, what it uses, and what is wrong with it."""

    kernel: str
    target: str
    key: str
    labels: list[str]
    num_warps: int
    num_stages: int
    shared_bytes: int
    registers: int
    stack_bytes: int
    dot_operands: list[str]
    tensor_core: bool
    compile_s: float
    max_grid: list[int]
    problems: list[str] = field(default_factory=list)


_label: contextvars.ContextVar[str] = contextvars.ContextVar("gate_label", default="")


@contextlib.contextmanager
def labelled(label: str) -> Iterator[None]:
    token = _label.set(label)
    try:
        yield
    finally:
        _label.reset(token)


# ---------------------------------------------------------------------------------------------
# 1. recording


@contextlib.contextmanager
def recording(launches: list[Launch]) -> Iterator[None]:
    """Record every Triton launch made inside instead of running it."""
    from triton.runtime.jit import JITFunction

    def record(self: Any, *args: Any, grid: Any, warmup: bool, **kwargs: Any) -> None:
        g = grid(dict(zip(self.arg_names, args, strict=False))) if callable(grid) else grid
        launches.append(Launch(_label.get(), self.__name__, self, tuple(int(v) for v in g), args, dict(kwargs)))

    with mock.patch.object(JITFunction, "run", record):
        yield


@contextlib.contextmanager
def triton_dispatch(compute: bool) -> Iterator[None]:
    """Route every srkit op to its Triton implementation on CPU tensors (as on a GPU). With
    ``compute`` the PyTorch reference then produces the outputs (so a whole model runs on real
    values); without it outputs stay uninitialised (enough for one op call)."""
    from srkit.ops import dispatch

    real_impls, real_reason = dispatch.implementations, dispatch.unavailable_reason

    def impls(op: str) -> dict[str, Any]:
        table = dict(real_impls(op))
        run_triton, run_torch = table["triton"], table["torch"]

        def both(*a: Any, **k: Any) -> Any:
            out = run_triton(*a, **k)
            if compute:
                return run_torch(*a, **k)
            return out.zero_() if out is not None else None  # a returned result (metric sums): defined values

        table["triton"] = both
        return table

    def reason(backend: str, device_type: str) -> str:
        return "" if backend == "triton" else real_reason(backend, device_type)

    with (
        mock.patch.object(dispatch, "implementations", impls),
        mock.patch.object(dispatch, "unavailable_reason", reason),
        dispatch.use_backend("triton", strict=True),
    ):
        yield


# ---------------------------------------------------------------------------------------------
# what is recorded: srkit's public calls, as users and srkit-bench make them

Call = tuple[str, Callable[[], object]]
CHANNELS = (32, 48, 64)
HALF = ("float16", "bfloat16")
GATE_MODELS = ("imdn", "rlfn", "span", "wdsr_b")
LR_720P = (180, 320)  # x4 to 1280x720


def _dtype(name: str) -> Any:
    import torch

    return getattr(torch, name)


def _x(shape: tuple[int, ...], dtype: str, channels_last: bool = False, grad: bool = False) -> Any:
    import torch

    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return torch.randn(shape).to(dtype=_dtype(dtype), memory_format=fmt).requires_grad_(grad)


def bench_calls() -> Iterator[Call]:
    """srkit-bench's op cases at the shapes it times on a GPU."""
    from . import cases

    with cases.shapes_of("cuda"):
        for name in cases.OPS:
            for case in cases.BUILDERS[name]("cpu", False):
                dt = str(case.dtype).replace("torch.", "")
                yield f"bench {case.op} {list(case.shape)} {dt}", lambda c=case: c.fn(*c.inputs)


def block_calls(c: int, dtype: str, cl: bool) -> Iterator[Call]:
    """The layers srkit's models are built of, at one width, dtype and layout (720p-output LR)."""
    from .. import nn as snn
    from .. import ops

    x = _x((1, c, *LR_720P), dtype, cl)
    tag = f"C={c} {dtype} {'channels_last' if cl else 'NCHW'}"
    blocks = {
        "WideActBlockB": snn.WideActBlockB(c, weight_norm=False),
        "WideActBlockA": snn.WideActBlockA(c, weight_norm=False),
        "WideActBlockA(fused)": snn.WideActBlockA(c, weight_norm=False, fused=True),
        "ContrastChannelAttention": snn.ContrastChannelAttention(c),
    }
    for name, m in blocks.items():
        yield f"{name} {tag}", lambda m=m: m.to(_dtype(dtype))(x)
    yield f"channel_scale {tag}", lambda: ops.channel_scale(x, _x((1, c), dtype))
    for r in (2, 3, 4):
        t = _x((1, 3 * r * r, *LR_720P), dtype, cl)
        yield (
            f"upsample_tail r={r} {dtype} {'channels_last' if cl else 'NCHW'}",
            lambda t=t, r=r: ops.upsample_tail(t, r, mean=[0.45, 0.44, 0.40], clamp=(0.0, 1.0)),
        )
        yield (
            f"pixel_shuffle r={r} {dtype} {'channels_last' if cl else 'NCHW'}",
            lambda t=t, r=r: ops.pixel_shuffle(t, r),
        )
    yield f"pixel_shuffle r=2 {tag}", lambda: ops.pixel_shuffle(x, 2)
    yield f"pixel_unshuffle r=2 {tag}", lambda: ops.pixel_unshuffle(x, 2)


def training_calls(c: int, dtype: str) -> Iterator[Call]:
    """Forward and backward of the blocks training uses (a batch of 48x48 patches)."""
    from .. import nn as snn
    from .. import ops

    def step(m: Any) -> None:
        x = _x((4, c, 48, 48), dtype, grad=True)
        m.to(_dtype(dtype))(x).float().sum().backward()

    for name in ("WideActBlockB", "WideActBlockA", "ContrastChannelAttention"):
        m = getattr(snn, name)(c, **({} if name == "ContrastChannelAttention" else {"weight_norm": False}))
        yield f"{name} backward C={c} {dtype}", lambda m=m: step(m)
    feat = _x((4, 48, 48, 48), dtype, grad=True)
    yield (
        f"upsample_tail backward {dtype}",
        lambda: ops.upsample_tail(feat, 4, clamp=(0.0, 1.0)).float().sum().backward(),
    )


def metric_calls() -> Iterator[Call]:
    """The evaluation protocol's inputs: uint8 and float images, NCHW and NHWC, Y-only or RGB."""
    import torch

    from .. import metrics

    hr = torch.randint(0, 256, (1, 3, 720, 1280), dtype=torch.uint8)
    for name, sr in (("uint8", hr.clone()), ("float32", hr.float() / 255)):
        for layout, a, b in (("NCHW", sr, hr), ("NHWC", sr.permute(0, 2, 3, 1), hr.permute(0, 2, 3, 1))):
            for y in (True, False):
                tag = f"{name} {layout} y_only={y}"
                yield f"psnr {tag}", lambda a=a, b=b, y=y, lay=layout: metrics.psnr(a, b, y_only=y, shave=4, layout=lay)
                yield f"ssim {tag}", lambda a=a, b=b, y=y, lay=layout: metrics.ssim(a, b, y_only=y, shave=4, layout=lay)


def model_calls(models: tuple[str, ...] = GATE_MODELS) -> Iterator[Call]:
    """One fp32 forward of each model at 720p output (CPU half-precision convolutions are too slow
    to run here; the half-precision launches are the block calls')."""
    import torch

    from ..models import create_model

    for name in models:
        m = create_model(name, scale=4).eval()
        if hasattr(m, "fold_weight_norm"):
            m.fold_weight_norm()
        x = torch.rand(1, 3, *LR_720P)
        yield f"model {name}", lambda m=m, x=x: m(x)


def probe_calls() -> Iterator[Call]:
    """The dispatcher's availability probe, launched once per device before any op."""
    import torch

    from ..kernels import helpers

    x = torch.arange(37, dtype=torch.float32)
    yield "probe", lambda: helpers.probe(x, torch.empty_like(x))


def record_all(quick: bool = False, declined: list[str] | None = None) -> list[Launch]:
    """Record the launches of every call above, fp32 ones under both of PyTorch's fp32 modes. A
    call whose op declines Triton (its reason, e.g. the fused WDSR-A kernel in IEEE fp32) goes to
    ``declined`` instead: the dispatcher would not launch it on a GPU either."""
    import torch

    from ..ops import BackendUnavailable, precision

    launches: list[Launch] = []
    dtypes = ("float32",) if quick else ("float32", *HALF)
    groups: list[tuple[bool, Iterator[Call]]] = [(False, probe_calls())]
    groups += [(False, bench_calls())] if not quick else []
    for c in CHANNELS[:1] if quick else CHANNELS:
        for dt in dtypes:
            groups += [(False, block_calls(c, dt, cl)) for cl in (False, True)]
            groups.append((False, training_calls(c, dt)))
    groups += [(True, metric_calls()), (True, model_calls(GATE_MODELS[:1] if quick else GATE_MODELS))]
    with recording(launches):
        for compute, calls in groups:
            with triton_dispatch(compute), torch.no_grad() if compute else contextlib.nullcontext():
                for label, fn in calls:
                    for tf32 in (False, True) if ("float32" in label or label.startswith("model")) else (False,):
                        with labelled(f"{label} tf32={tf32}"), precision.fp32_mode(tf32=tf32):
                            try:
                                fn()
                            except BackendUnavailable as e:
                                if declined is None:
                                    raise
                                declined.append(f"{label} tf32={tf32}: {e}")
    return launches


# ---------------------------------------------------------------------------------------------
# 2. compiling for a GPU that is not there


class _StandInDriver:
    """What ``JITFunction.run(..., warmup=True)`` asks of the active driver: a device, a stream
    and the target to compile for. Nothing is loaded or launched."""

    def __init__(self, target: Target) -> None:
        from triton.backends.compiler import GPUTarget

        self.target = GPUTarget("cuda", target.arch, 32)

    def get_current_device(self) -> int:
        return 0

    def get_current_stream(self, device: int | None = None) -> int:
        return 0

    def get_current_target(self) -> Any:
        return self.target


@contextlib.contextmanager
def compiling_for(target: Target, fns: list[Any]) -> Iterator[None]:
    """Make ``target`` the active device for ``fns``' binders and compiler (each JITFunction's
    per-device caches are dropped: they do not key on the target)."""
    from triton.runtime import driver

    for fn in fns:
        fn.device_caches.clear()
    with mock.patch.object(driver, "_active", _StandInDriver(target)):
        yield
    for fn in fns:
        fn.device_caches.clear()


def compile_launches(launches: list[Launch], target: Target) -> list[tuple[Any, list[Launch], float]]:
    """(compiled kernel, its launches, compile seconds) per distinct compilation on ``target``."""
    fns = list({id(x.fn): x.fn for x in launches}.values())
    groups: dict[int, tuple[Any, list[Launch], float]] = {}
    with compiling_for(target, fns):
        for launch in launches:
            t0 = time.perf_counter()
            kernel = launch.fn.warmup(*launch.args, grid=launch.grid, **launch.kwargs)
            seconds = time.perf_counter() - t0
            if id(kernel) not in groups:
                groups[id(kernel)] = (kernel, [], seconds)
            groups[id(kernel)][1].append(launch)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# 3. inspecting the binaries


def _tool(name: str) -> str:
    import triton

    return str(Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / name)


def resources(cubin: bytes, name: str) -> tuple[int, int]:
    """(registers per thread, stack + local bytes per thread) of kernel ``name``, by cuobjdump."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        out = subprocess.run(
            [_tool("cuobjdump"), "--dump-resource-usage", f.name], capture_output=True, text=True, check=True
        ).stdout
    block = out.split(f"Function {name}:", 1)[-1]
    field_of = {k: int(v) for k, v in re.findall(r"(REG|STACK|LOCAL):(\d+)", block)}
    return field_of.get("REG", 0), field_of.get("STACK", 0) + field_of.get("LOCAL", 0)


_DOT = re.compile(r"tt\.dot\b[^\n]*?:\s*tensor<[^>]*?x(f16|bf16|f32|f64|f8E\w+)>")


def dot_operands(ttir: str) -> list[str]:
    """Per ``tt.dot`` in the kernel: its operand type, 'f32-tf32' where fp32 multiplies in TF32."""
    out = []
    for m in _DOT.finditer(ttir):
        kind = m.group(1)
        if kind == "f32" and "inputPrecision = tf32" in m.group(0):
            kind = "f32-tf32"
        out.append(kind)
    return out


def needs_tensor_cores(dots: list[str]) -> bool:
    return any(d in ("f16", "bf16", "f32-tf32") for d in dots)


def inspect(kernel: Any, launches: list[Launch], seconds: float, target: Target) -> Finding:
    md = kernel.metadata
    regs, stack = resources(kernel.asm["cubin"], md.name)
    dots = dot_operands(kernel.asm["ttir"])
    ptx = kernel.asm["ptx"]
    grid = [max(x.grid[i] if i < len(x.grid) else 1 for x in launches) for i in range(3)]
    f = Finding(
        launches[0].kernel,
        target.name,
        kernel.hash[:12],
        sorted({x.label for x in launches}),
        md.num_warps,
        md.num_stages,
        md.shared,
        regs,
        stack,
        sorted(set(dots)),
        target.tensor_core_op in ptx,
        round(seconds, 2),
        grid,
    )
    f.problems = problems(f, target)
    return f


def problems(f: Finding, target: Target) -> list[str]:
    """What would fail at launch, or run far below the hardware, on ``target``."""
    threads = f.num_warps * 32
    out = []
    if f.shared_bytes > target.shared_bytes:
        out.append(f"shared memory {f.shared_bytes} B > {target.shared_bytes} B: OutOfResources at launch")
    if f.stack_bytes and not any(f.stack_bytes <= SPILL_OK.get((f.kernel, d), (0, ""))[0] for d in f.dot_operands):
        out.append(f"{f.stack_bytes} B of local memory per thread (register spills)")
    if f.registers > target.max_regs_per_thread or f.registers * threads > target.regs_per_sm:
        out.append(f"{f.registers} registers x {threads} threads exceed the SM's {target.regs_per_sm}")
    if threads > target.max_threads:
        out.append(f"{threads} threads per block > {target.max_threads}")
    if needs_tensor_cores(f.dot_operands) and not f.tensor_core:
        out.append(f"products on {f.dot_operands} without {target.tensor_core_op} (no tensor cores)")
    out += [
        f"grid[{i}] = {g} > {lim}" for i, (g, lim) in enumerate(zip(f.max_grid, GRID_LIMITS, strict=False)) if g > lim
    ]
    return out


def compilations_per_label(findings: list[Finding], prefix: str) -> dict[str, dict[str, int]]:
    """Distinct compilations each labelled call (e.g. one model forward) triggers, per target."""
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        for label in {lab.rsplit(" tf32=", 1)[0] for lab in f.labels if lab.startswith(prefix)}:
            counts.setdefault(label, {}).setdefault(f.target, 0)
            counts[label][f.target] += 1
    return counts


def findings_for(launches: list[Launch], target: str) -> list[Finding]:
    return [inspect(k, ls, s, TARGETS[target]) for k, ls, s in compile_launches(launches, TARGETS[target])]


_forked: list[Launch] = []


def _forked_findings(target: str) -> list[Finding]:
    return findings_for(_forked, target)


def _map_targets(launches: list[Launch], targets: list[str]) -> list[list[Finding]]:
    """One forked worker per target where there are cores for it (compiling is CPU-bound; the
    workers inherit the recorded launches, tensors included, instead of pickling them)."""
    import multiprocessing

    if len(targets) < 2 or (os.cpu_count() or 1) < 2:
        return [findings_for(launches, t) for t in targets]
    _forked[:] = launches
    try:
        with multiprocessing.get_context("fork").Pool(min(len(targets), os.cpu_count() or 1)) as pool:
            return pool.map(_forked_findings, targets)
    finally:
        _forked.clear()


def run(targets: list[str], quick: bool = False) -> dict[str, Any]:
    """Record, compile and inspect; the whole result as a JSON-able dict."""
    import triton

    t0 = time.perf_counter()
    declined: list[str] = []
    launches = record_all(quick, declined)
    recorded = time.perf_counter() - t0
    findings = [f for per_target in _map_targets(launches, targets) for f in per_target]
    return {
        "triton": triton.__version__,
        "targets": targets,
        "quick": quick,
        "launches": len(launches),
        "record_s": round(recorded, 1),
        "total_s": round(time.perf_counter() - t0, 1),
        "kernels_launched": sorted({x.kernel for x in launches}),
        "model_compilations": compilations_per_label(findings, "model "),
        "declined": declined,
        "findings": [asdict(f) for f in findings],
    }


def launched_kernels() -> list[str]:
    """Every launchable ``@triton.jit`` kernel in ``srkit.kernels`` (helpers excluded)."""
    import importlib
    import pkgutil

    from triton.runtime.jit import JITFunction

    from .. import kernels

    names = []
    for m in pkgutil.iter_modules(kernels.__path__):
        mod = importlib.import_module(f"{kernels.__name__}.{m.name}")
        names += [n for n, v in vars(mod).items() if isinstance(v, JITFunction) and n.endswith("_kernel")]
    return sorted(set(names))


def summary(result: dict[str, Any]) -> str:
    rows = [
        f"Triton {result['triton']}: {result['launches']} launches recorded in {result['record_s']} s, "
        f"{len(result['findings'])} compilations, {result['total_s']} s in all"
    ]
    for f in sorted(result["findings"], key=lambda f: (f["kernel"], f["target"], -f["compile_s"])):
        rows.append(
            f"{f['target']} {f['kernel']:<34} warps {f['num_warps']} stages {f['num_stages']} smem {f['shared_bytes']:>6} "
            f"regs {f['registers']:>3} local {f['stack_bytes']:>5} dots {','.join(f['dot_operands']) or '-':<12} "
            f"tc {'y' if f['tensor_core'] else 'n'} {f['compile_s']:>6.1f}s {'; '.join(f['problems'])}"
        )
    for label, per in sorted(result["model_compilations"].items()):
        rows.append(f"{label}: {per} distinct compilations")
    rows += [f"declined by the dispatcher (not launched): {d}" for d in result["declined"]]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Compile every srkit Triton kernel for real GPUs and check the binaries.")
    p.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    p.add_argument("--quick", action="store_true", help="fp32 only, C = 32, IMDN only, no benchmark shapes")
    p.add_argument("--json", help="write the result here")
    args = p.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET") == "1":
        print("srkit kernel gate: TRITON_INTERPRET=1 is set; the gate compiles for a GPU, unset it", file=sys.stderr)
        return 2
    result = run(args.targets, args.quick)
    print(summary(result))
    if args.json:
        from .. import atomic

        atomic.write_json(Path(args.json), result)
    bad = [f for f in result["findings"] if f["problems"]]
    missing = sorted(set(launched_kernels()) - set(result["kernels_launched"]))
    if missing:
        print(f"kernels never launched by any gated call: {missing}", file=sys.stderr)
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
