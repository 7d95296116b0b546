"""Bringing metric inputs (torch tensors, numpy arrays, cupy arrays) to checked NCHW torch views, without copies."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

SUPPORTED = (torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64)
Layout = Literal["NCHW", "NHWC"]


@dataclass(frozen=True)
class Prepared:
    sr: torch.Tensor
    hr: torch.Tensor
    sr_mul: float
    hr_mul: float
    y_only: bool
    kind: str  # "torch", "numpy" or "cupy": what the result is returned as


def _to_torch(a: Any, name: str, op: str) -> tuple[torch.Tensor, str]:
    if isinstance(a, torch.Tensor):
        return a, "torch"
    if isinstance(a, np.ndarray):
        if not a.dtype.isnative:
            raise TypeError(f"srkit.metrics.{op}: {name} has non-native byte order ({a.dtype})")
        with warnings.catch_warnings():  # read-only arrays are fine: the metrics only read
            warnings.simplefilter("ignore", UserWarning)
            return torch.from_numpy(a), "numpy"
    if type(a).__module__.split(".")[0] == "cupy":
        return torch.from_dlpack(a), "cupy"
    raise TypeError(
        f"srkit.metrics.{op}: {name} must be a torch tensor, numpy array or cupy array, got {type(a).__name__}"
    )


def _nchw(t: torch.Tensor, name: str, op: str, layout: Layout) -> torch.Tensor:
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"srkit.metrics.{op}: layout must be 'NCHW' or 'NHWC', got {layout!r}")
    if t.dim() == 2:  # one grey image
        return t[None, None]
    if t.dim() == 3:
        t = t[None]
    if t.dim() != 4:
        raise ValueError(
            f"srkit.metrics.{op}: {name} must be (N, C, H, W), (C, H, W) or (H, W); got shape {tuple(t.shape)}"
        )
    return t.permute(0, 3, 1, 2) if layout == "NHWC" else t


def _multiplier(t: torch.Tensor, data_range: float | None, name: str, op: str) -> float:
    if t.dtype not in SUPPORTED:
        raise TypeError(
            f"srkit.metrics.{op}: {name} has unsupported dtype {t.dtype} (uint8, float16, bfloat16, float32, float64)"
        )
    if t.dtype == torch.uint8:
        if data_range not in (None, 255, 255.0):
            raise ValueError(f"srkit.metrics.{op}: {name} is uint8, so its range is 255, not {data_range}")
        return 1.0
    rng = 1.0 if data_range is None else float(data_range)
    if not rng > 0:
        raise ValueError(f"srkit.metrics.{op}: data_range must be positive, got {data_range}")
    return 255.0 / rng


def prepare(
    sr: Any, hr: Any, *, data_range: float | None, y_only: bool, shave: int, layout: Layout, op: str, min_size: int
) -> Prepared:
    s, kind = _to_torch(sr, "sr", op)
    h, _ = _to_torch(hr, "hr", op)
    s, h = _nchw(s, "sr", op, layout), _nchw(h, "hr", op, layout)
    if s.shape != h.shape:
        raise ValueError(f"srkit.metrics.{op}: sr and hr shapes differ: {tuple(s.shape)} vs {tuple(h.shape)}")
    if s.device != h.device:
        raise ValueError(f"srkit.metrics.{op}: sr and hr are on different devices ({s.device} and {h.device})")
    sr_mul, hr_mul = _multiplier(s, data_range, "sr", op), _multiplier(h, data_range, "hr", op)
    c, hh, ww = s.shape[1:]
    if y_only and c not in (1, 3):
        raise ValueError(f"srkit.metrics.{op}: y_only needs 3 (RGB) or 1 (grey) channels, got {c}")
    if isinstance(shave, bool) or not isinstance(shave, int) or shave < 0:
        raise ValueError(f"srkit.metrics.{op}: shave must be a non-negative int, got {shave!r}")
    if min(hh, ww) - 2 * shave < min_size:
        raise ValueError(
            f"srkit.metrics.{op}: shave={shave} leaves {hh - 2 * shave}x{ww - 2 * shave} pixels of the {hh}x{ww} images; "
            f"{op} needs at least {min_size}x{min_size}"
        )
    # A grey image is its own luma: y_only on one channel compares that channel as it is.
    return Prepared(s, h, sr_mul, hr_mul, bool(y_only and c == 3), kind)


def check_finite(res: torch.Tensor, op: str, allow_pos_inf: bool = False) -> None:
    """NaN or Inf in the inputs surfaces as a non-finite score: name the images it hit."""
    bad = torch.isnan(res) | (res == float("-inf")) if allow_pos_inf else ~torch.isfinite(res)
    if bool(bad.any()):
        raise ValueError(
            f"srkit.metrics.{op}: sr or hr contains NaN or Inf (images {bad.nonzero().flatten().tolist()})"
        )


def wrap(result: torch.Tensor, kind: str) -> Any:
    if kind == "numpy":
        return result.cpu().numpy()
    if kind == "cupy":
        import cupy  # only when the caller passed cupy arrays

        return cupy.from_dlpack(result)
    return result
