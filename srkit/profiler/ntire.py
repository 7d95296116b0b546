"""The NTIRE efficient-SR challenges' report for a set of models: parameters, FLOPs at a 256x256 LR
input, runtime by the challenges' protocol, PSNR, and the NTIRE 2024 score against a baseline.

FLOPs, two conventions, both counting one multiply-add as one operation:

- ``fvcore`` (NTIRE 2024, ``fvcore.nn.FlopCountAnalysis``): convolutions, matrix products and
  normalisations, plus bilinear upsampling at 4 and nearest at 1 per output element; element-wise
  activations are not counted.
- ``ntire22`` (NTIRE 2022, ``utils/model_summary.get_model_flops``; RLFN's README): convolutions and
  matrix products, plus one per output element of ReLU, LeakyReLU, PReLU, ELU and ReLU6.

Both are counted on the aten operations the model runs (srkit's fused ops as the plain PyTorch
modules they replace), so a network's count does not depend on how it is written.

Runtime (the challenges' ``test_demo.py``): each LR image's forward pass alone, input already on the
device, synchronised, averaged over the set; the challenge averages five such runs. Here the runs
are interleaved over the models in a rotated order so a busy stretch of the machine falls on all.

Score (NTIRE 2024 ESR, Amazingren/NTIRE2024_ESR README, "How the Ranking Strategy Works"):
``exp(2 x / x_baseline)`` for runtime, FLOPs and parameters, and
``0.7 Score_Runtime + 0.15 Score_FLOPs + 0.15 Score_Params``; the baseline itself scores e^2 = 7.389.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ..ops import plain_torch
from .timing import sync

CONVENTIONS = ("fvcore", "ntire22")
LR_SIDE = 256  # the challenges' FLOPs input: 3 x 256 x 256
WEIGHTS = {"runtime": 0.7, "flops": 0.15, "params": 0.15}
SOURCE = "NTIRE 2024 ESR challenge, Amazingren/NTIRE2024_ESR README (How the Ranking Strategy Works)"

# convolution and _convolution carry `transposed` as their 7th argument; inference mode may show conv2d itself
_CONVOLUTIONS = {"convolution", "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d"}
_MATMUL = {"mm": (0, 1), "bmm": (0, 1), "addmm": (1, 2), "baddbmm": (1, 2)}
_FVCORE_PER_OUTPUT = {"upsample_bilinear2d": 4, "upsample_nearest2d": 1}
_FVCORE_PER_INPUT = {"adaptive_avg_pool2d", "native_batch_norm", "native_layer_norm", "native_group_norm"}
_NTIRE22_ACTIVATIONS = {"relu", "leaky_relu", "prelu", "_prelu_kernel", "elu", "hardtanh"}


class _Counter(TorchDispatchMode):
    """Adds up one convention's operation count over the aten calls it sees."""

    def __init__(self, convention: str) -> None:
        super().__init__()
        self.convention = convention
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.total += self._count(func.overloadpacket.__name__.rstrip("_"), args, out)
        return out

    def _count(self, name: str, args: tuple, out: object) -> int:
        first = out[0] if isinstance(out, tuple) else out
        n_out = first.numel() if isinstance(first, torch.Tensor) else 0
        if name in _CONVOLUTIONS:  # output elements x (in channels / groups) x kernel area
            transposed = name.startswith("conv_transpose") or (name.endswith("convolution") and bool(args[6]))
            # a transposed one: each input element meets (out channels / groups) x kernel area
            return (args[0].numel() if transposed else n_out) * args[1][0].numel()
        if name in _MATMUL:
            a, b = (args[i] for i in _MATMUL[name])
            return a.numel() * b.shape[-1]
        if self.convention == "fvcore":
            if name in _FVCORE_PER_OUTPUT:
                return n_out * _FVCORE_PER_OUTPUT[name]
            return args[0].numel() if name in _FVCORE_PER_INPUT else 0
        return n_out if name in _NTIRE22_ACTIVATIONS else 0


def count_flops(model: nn.Module, convention: str = "fvcore", side: int = LR_SIDE) -> int:
    """Operations (multiply-add = 1) of one forward pass on a (1, C, side, side) input."""
    if convention not in CONVENTIONS:
        raise ValueError(f"FLOPs convention {convention!r}: one of {', '.join(CONVENTIONS)}")
    c = int(getattr(model, "in_channels", 3))
    x = torch.rand(1, c, side, side, device=next(model.parameters()).device)
    counter = _Counter(convention)
    with torch.inference_mode(), plain_torch(), counter:
        model.eval()(x)
    return counter.total


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@dataclass
class Timed:
    """Per run, the mean forward time over the set's images (ms); the warm-up pass kept apart."""

    runs_ms: list[float] = field(default_factory=list)
    warmup_ms: float = 0.0

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.runs_ms)


def _pass(model: nn.Module, inputs: Sequence[torch.Tensor], device: str) -> float:
    """Mean ms of one forward pass per image, each synchronised on its own."""
    total = 0.0
    for x in inputs:
        sync(device)
        t0 = time.perf_counter()
        model(x)
        sync(device)
        total += time.perf_counter() - t0
    return 1e3 * total / len(inputs)


@torch.inference_mode()
def runtimes(models: dict[str, nn.Module], inputs: dict[str, list[torch.Tensor]], device: str, runs: int) -> dict:
    """Each model's :class:`Timed` over ``runs`` rounds, the models' order rotated every round."""
    names = list(models)
    out = {n: Timed(warmup_ms=_pass(models[n], inputs[n], device)) for n in names}
    for r in range(runs):
        for n in names[r % len(names) :] + names[: r % len(names)]:
            out[n].runs_ms.append(_pass(models[n], inputs[n], device))
    return out


def score(row: dict, base: dict) -> dict[str, float]:
    """The NTIRE 2024 scores of ``row`` (runtime_ms, flops, params) against the baseline's."""
    keyed = {"runtime": "runtime_ms", "flops": "flops", "params": "params"}
    parts = {k: math.exp(2 * row[v] / base[v]) for k, v in keyed.items()}
    return {**{f"score_{k}": s for k, s in parts.items()}, "score": sum(WEIGHTS[k] * s for k, s in parts.items())}
