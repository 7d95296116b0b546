"""Latency of candidates on the device the search runs on, by ``srkit-bench``'s method.

:class:`Measured` times each candidate (a BlockNet, srkit's fused path, inference mode) on a fixed
LR input; :class:`FromTable` predicts it from a latency table (``srkit-bench lut``) made on this
device with this software, and refuses a table from elsewhere.

The runtime a candidate is timed on is one of :data:`LATENCY_RUNTIMES`. ``auto`` (the default) is
the runtime srkit ships the network on: ``srkit upscale`` and ``Upscaler.load`` run the fastest of
srkit's runtimes on the device (:mod:`srkit.runtime`), so a candidate's latency is the fastest of
them at the latency input, and the winner is recorded beside it.

Like for like: a network that takes one plane (Y, as ESPCN and FSRCNN and the Y spaces' members) is
timed with the colour work :class:`srkit.Upscaler` does around it on a colour image (RGB to YCbCr,
the chroma by MATLAB's bicubic, back to RGB) added, since an RGB network's latency includes its
colour output; ``colour_ms`` in the timing says how much of it that is.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.nn.utils import parametrize

from srkit.models.base import padded_hw
from srkit.nn import fold_weight_norm
from srkit.profiler import lut
from srkit.profiler.modelbench import RUNTIMES, runtime_call, time_runtime

from .space import Arch

LATENCY_RUNTIMES = (*RUNTIMES, "auto")


def default_runtime() -> str:
    """The searches' default: the commands' (``SRKIT_RUNTIME``, else auto) where a search can time on it."""
    from srkit.runtime import DEFAULT

    return DEFAULT if DEFAULT in LATENCY_RUNTIMES else "auto"


class Latency(Protocol):
    method: str

    def __call__(self, arch: Arch) -> float: ...


def time_model(model: nn.Module, lr_hw: tuple[int, int], device: str, **options: Any) -> float:
    """Median forward latency (ms) of ``model``: :func:`time_stats`'s median (same ``options``)."""
    return float(time_stats(model, lr_hw, device, **options)["median_ms"])


def time_stats(
    model: nn.Module,
    lr_hw: tuple[int, int],
    device: str,
    *,
    reps: int = 10,
    dtype: torch.dtype = torch.float32,
    runtime: str = "torch",
) -> dict[str, Any]:
    """The timing (median, p10, p90, min, mean in ms; reps; the runtime timed; for a Y network the
    colour work included, ``colour_ms``) of ``model`` on a (1, C, *lr_hw) input (C: the model's input
    planes), padded to what the model needs (its minimum side and multiple) as :class:`srkit.Upscaler`
    would run it, on ``runtime`` (one of :data:`LATENCY_RUNTIMES`). Timed in inference form: a copy
    with any weight norm folded (WDSR's, a weight-normalised BlockNet's), so the norm is not
    recomputed on every call."""
    parametrised = any(parametrize.is_parametrized(x) for x in model.modules())
    m = (fold_weight_norm(copy.deepcopy(model)) if parametrised else model).eval().to(device, dtype)
    channels = int(getattr(m, "in_channels", 3))  # Y-channel models (ESPCN, FSRCNN) take one plane
    x = torch.rand(1, channels, *padded_hw(m, lr_hw), device=device).to(dtype)
    stats = shipped(m, x, reps) if runtime == "auto" else {**time_runtime(m, x, runtime, reps=reps, min_seconds=0.1)[0]}
    stats.setdefault("runtime", runtime)
    if channels == 1:
        extra = colour_ms(tuple(lr_hw), int(getattr(m, "scale", 1)), str(device), reps)
        stats = {k: v + extra if k in TIMES else v for k, v in stats.items()} | {"colour_ms": extra}
    return stats


TIMES = ("median_ms", "p10_ms", "p90_ms", "min_ms", "mean_ms")


@functools.cache
def colour_ms(lr_hw: tuple[int, int], scale: int, device: str, reps: int = 10) -> float:
    """Median ms of the colour work around a Y network on an RGB image of LR size ``lr_hw``
    (:func:`srkit.inference.luma_on_colour` with the network's output given). The same for every
    network of a run, so timed once per size, scale and device in a process, not once per candidate."""
    from srkit.inference import luma_on_colour
    from srkit.profiler.timing import measure

    rgb = torch.rand(1, 3, *lr_hw, device=device)
    y_sr = torch.rand(1, 1, lr_hw[0] * scale, lr_hw[1] * scale, device=device)
    with torch.inference_mode():
        return measure(lambda: luma_on_colour(rgb, lambda y: y_sr, scale), device, warmup=1, reps=reps).median_ms


def shipped(model: nn.Module, x: torch.Tensor, reps: int) -> dict[str, Any]:
    """The timing of ``model(x)`` on the runtime srkit's ``auto`` ships it on: the fastest of
    :func:`srkit.runtime.candidates` for this device and dtype, timed together in interleaved rounds
    (as :func:`srkit.runtime.measure_choice` chooses), named under ``runtime``."""
    from srkit.profiler.timing import interleaved
    from srkit.runtime import candidates

    calls = {r: runtime_call(model, x, r)[0] for r in candidates(x.device, x.dtype)}
    with torch.inference_mode():
        res = interleaved(calls, x.device, rounds=3, reps=max(1, -(-reps // 3)))
    best = min(res.timings, key=lambda r: res.timings[r].median_ms)
    return {**res.timings[best].as_dict(), "runtime": best}


def time_rounds(
    models: dict[str, nn.Module],
    lr_hw: tuple[int, int],
    device: str,
    *,
    rounds: int,
    reps: int = 5,
    runtime: str = "torch",
) -> dict[str, list[float]]:
    """Each model's median latency (ms) in each of ``rounds`` rounds; a round times every model once,
    so a slow spell of the machine spreads over all of them instead of landing on one."""
    out: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, m in models.items():
            out[name].append(float(time_stats(m, lr_hw, device, reps=reps, runtime=runtime)["median_ms"]))
    return out


class Measured:
    method = "measured"

    def __init__(self, scale: int, lr_hw: tuple[int, int], device: str, reps: int = 10, runtime: str = "torch") -> None:
        self.scale, self.lr_hw, self.device, self.reps, self.runtime = scale, lr_hw, device, reps, runtime

    def __call__(self, arch: Arch) -> float:
        net = arch.build(self.scale, inference=True)  # the input normalisation is timed, the folded norm is not
        return time_model(net, self.lr_hw, self.device, reps=self.reps, runtime=self.runtime)


class FromTable:
    method = "table"

    def __init__(
        self, path: str | Path, scale: int, lr_hw: tuple[int, int], device: str, runtime: str = "torch"
    ) -> None:
        # refuses a table made elsewhere or on another runtime (auto: the table's own)
        self.table = lut.load(path, device=device, runtime=None if runtime == "auto" else runtime)
        self.scale, self.lr_hw = scale, lr_hw

    def __call__(self, arch: Arch) -> float:
        return self.table.predict(arch.channels, self.scale, list(arch.blocks), self.lr_hw, arch.upsampler)
