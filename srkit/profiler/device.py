"""The device a measurement was taken on: its fingerprint and its measured peaks.

The fingerprint names the device and the software that ran on it; :func:`identity` is the part
that must match for a latency table to be used (device, srkit, torch, Triton). The peaks (copy
bandwidth and dense matrix throughput per dtype) are measured once per identity and cached in
``$SRKIT_CACHE_DIR`` (default ``~/.cache/srkit``), so every row can show its fraction of the roofline.
"""

from __future__ import annotations

import functools
import json
import platform
import re
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__, atomic, cache
from ..ops import dispatch, precision
from .timing import measure

DTYPE_NAMES = {
    torch.float32: "fp32",
    torch.float16: "fp16",
    torch.bfloat16: "bf16",
    torch.float64: "fp64",
    torch.uint8: "uint8",
}
NAME_DTYPES = {v: k for k, v in DTYPE_NAMES.items()} | {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def dtype_name(dtype: torch.dtype) -> str:
    return DTYPE_NAMES.get(dtype, str(dtype).replace("torch.", ""))


def parse_dtype(name: str) -> torch.dtype:
    try:
        return NAME_DTYPES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; choose one of fp32, fp16, bf16") from None


def cpu_name() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


@functools.cache
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (empty where there is none)."""
    try:
        block = Path("/proc/cpuinfo").read_text().split("\n\n", 1)[0]
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.splitlines())}


@functools.cache
def cpu_model() -> str:
    """Vendor, family, model and stepping (``AuthenticAMD 26/2/1``): a VM may name CPUs of several
    generations alike (``AMD EPYC``), and its machine id may be the image's, not the machine's."""
    info = _cpuinfo()
    if "cpu family" not in info:
        return platform.machine()
    return f"{info.get('vendor_id', '?')} {info['cpu family']}/{info.get('model', '?')}/{info.get('stepping', '?')}"


# extensions that change half-precision numbers (bf16 rounds on them natively) and speed
HALF_FLAGS = {"avx512_bf16": "bf16", "amx_bf16": "amx-bf16", "avx512_fp16": "fp16", "amx_fp16": "amx-fp16"}


@functools.cache
def cpu_isa() -> str:
    """torch's vector ISA with the half-precision extensions present (``AVX512+bf16``, ``AVX2``)."""
    flags = set(_cpuinfo().get("flags", "").split())
    return "+".join([torch.backends.cpu.get_cpu_capability(), *(v for k, v in HALF_FLAGS.items() if k in flags)])


@functools.cache
def _source_commit() -> tuple[str | None, bool | None]:
    """The git commit of a source checkout of srkit (None for an installed copy)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None, None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "csrc", "kernels", "srkit"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(dirty)


def fingerprint(device: str | torch.device) -> dict[str, Any]:
    """What was measured on: device, its properties, and every version that changes the numbers."""
    dev = torch.device(device)
    try:
        import triton

        triton_version: str | None = triton.__version__
    except Exception:  # noqa: BLE001 - absent or broken: recorded as None
        triton_version = None
    ext = dispatch.extension()
    commit, dirty = _source_commit()
    fp: dict[str, Any] = {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name(),
        "device_type": dev.type,
        "host": host_id(),
        "cpu_model": cpu_model(),
        "cpu_isa": cpu_isa(),
        "cpu_threads": torch.get_num_threads(),
        "extension_threads": ext.openmp_threads() if ext else None,
        "srkit": __version__,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "triton": triton_version,
        "python": platform.python_version(),
        "commit": commit,
        "uncommitted_kernel_changes": dirty,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        fp |= {
            "capability": f"{p.major}.{p.minor}",
            "sm_count": p.multi_processor_count,
            "memory_GiB": round(p.total_memory / 2**30, 1),
            "driver_cuda": torch.version.cuda,
        }
    return fp


IDENTITY_KEYS = ("device", "device_type", "srkit", "torch", "triton")
# the CPU under a name: one VM image (one machine id, one model name) has run on CPUs of other
# generations and ISAs, whose speeds and bf16 numbers differ
CPU_KEYS = ("cpu_model", "cpu_isa")
# what must also match for two latencies to be compared: the same machine and CPU, on the same thread count
TIMING_KEYS = (*IDENTITY_KEYS, *CPU_KEYS, "host", "cpu_threads")


@functools.cache
def host_id() -> str:
    """This machine, as 12 hex digits: a hash of its machine id (systemd's), else of its host name.
    VMs cloned from one image share the id, so the CPU keys (:data:`CPU_KEYS`) are compared as well."""
    import hashlib
    import socket

    try:
        seed = Path("/etc/machine-id").read_text().strip()
    except OSError:
        seed = ""
    return hashlib.sha256((seed or socket.gethostname()).encode()).hexdigest()[:12]


def timing_mismatch(recorded: dict[str, Any], here: dict[str, Any]) -> list[str]:
    """How fingerprint ``here`` differs from ``recorded`` where latencies are concerned (``TIMING_KEYS``;
    a key an older record lacks is not compared): empty when timings taken here may join its own."""
    return [
        f"{k}: {recorded[k]!r} there, {here.get(k)!r} here"
        for k in TIMING_KEYS
        if recorded.get(k) is not None and recorded.get(k) != here.get(k)
    ]


def identity(fp: dict[str, Any]) -> dict[str, Any]:
    """The part of a fingerprint that must match for measurements to carry over."""
    return {k: fp.get(k) for k in IDENTITY_KEYS}


def slug(fp: dict[str, Any]) -> str:
    """``cpu_amd-epyc_avx512-bf16``, ``cuda_nvidia-h100-80gb-hbm3``: for file names. A CPU's carries
    its ISA (where recorded), so CPUs sold under one name keep a file each."""
    name = re.sub(r"\((r|tm|c)\)", "", str(fp["device"]).lower())
    out = f"{fp['device_type']}_" + "-".join(re.findall(r"[a-z0-9]+", name))[:72]
    if fp["device_type"] == "cpu" and fp.get("cpu_isa"):
        out += "_" + "-".join(re.findall(r"[a-z0-9]+", str(fp["cpu_isa"]).lower()))
    return out


@dataclass(frozen=True)
class Peaks:
    """Measured peaks: copy bandwidth (bytes read + written per second) and dense matmul
    throughput per dtype name, in TFLOP/s."""

    bandwidth_GBps: float
    matmul_TFLOPs: dict[str, float] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)

    def flops_per_s(self, dtype: torch.dtype) -> float:
        name = dtype_name(dtype)
        tf = self.matmul_TFLOPs.get(name) or self.matmul_TFLOPs.get("fp32") or 0.0
        return tf * 1e12

    def floor_ms(self, flops: float, nbytes: float, dtype: torch.dtype) -> float:
        """The roofline floor: the larger of compute time at the matmul peak and traffic time at
        the copy bandwidth."""
        t_mem = nbytes / (self.bandwidth_GBps * 1e9) if self.bandwidth_GBps > 0 else 0.0
        f = self.flops_per_s(dtype)
        t_flop = flops / f if f > 0 else 0.0
        return max(t_mem, t_flop) * 1e3

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_bandwidth(device: str | torch.device, mib: int = 256) -> float:
    n = mib * 2**20 // 4
    a = torch.ones(n, dtype=torch.float32, device=device)
    b = torch.empty_like(a)
    t = measure(lambda: b.copy_(a), device, warmup=2, reps=10)
    return 2 * a.numel() * 4 / (t.median_ms * 1e-3) / 1e9


def measure_matmul(device: str | torch.device, dtype: torch.dtype, n: int) -> float:
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    t = measure(lambda: a @ b, device, warmup=2, reps=10)
    return 2 * n**3 / (t.median_ms * 1e-3) / 1e12


def cache_dir() -> Path:
    return cache.root()


def peaks(device: str | torch.device, *, remeasure: bool = False) -> Peaks:
    """The device's peaks, measured once per identity (device, srkit, torch, Triton) and cached."""
    dev = torch.device(device)
    fp = fingerprint(dev)
    ident = identity(fp)
    path = cache_dir() / "peaks" / f"{slug(fp)}.json"
    if not remeasure and path.is_file():
        try:
            data = json.loads(path.read_text())
            if data.get("identity") == ident:
                return Peaks(
                    float(data["bandwidth_GBps"]), {k: float(v) for k, v in data["matmul_TFLOPs"].items()}, ident
                )
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable cache: measured again and rewritten below
    if dev.type == "cuda":
        bw = measure_bandwidth(dev, 1024)
        mm = {dtype_name(d): measure_matmul(dev, d, 8192) for d in (torch.float16, torch.bfloat16)}
        with precision.fp32_mode(tf32=False):
            mm["fp32"] = measure_matmul(dev, torch.float32, 4096)
    else:
        bw = measure_bandwidth(dev, 256)
        mm = {"fp32": measure_matmul(dev, torch.float32, 2048)}
    result = Peaks(bw, mm, ident)
    try:
        atomic.write_json(path, result.as_dict())
    except OSError:
        pass  # a read-only home: the peaks are simply measured again next time
    return result
