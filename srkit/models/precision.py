"""Whether a model is safe in fp16 / bf16, measured on real weights and a real image.

A half-precision run is *safe* when its output is finite and its mean PSNR against the HR images (Y,
the scale shaved, as the benchmark protocol scores) is within :data:`MAX_DROP_DB` of the fp32 run's;
fp16 also needs its largest activation well inside fp16's range (:data:`FP16_PEAK`), since a
brighter or larger image than the probe can overflow where this one did not. ``bench/precision_safety.py``
records the checks for the official files, and each architecture's ``supports_fp16`` /
``supports_bf16`` follows the record (``tests/test_precision_safety.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..metrics import psnr

MAX_DROP_DB = 0.05  # below the two decimals papers report
FP16_PEAK = 65504.0 / 8  # fp16's largest finite value, with 8x headroom for brighter or busier images


@dataclass(frozen=True)
class HalfCheck:
    """One model, one dtype: the measurements and the verdict."""

    dtype: str
    finite: bool
    psnr_fp32: float
    psnr_half: float
    drop_db: float
    peak_activation: float
    safe: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def peak_activation(model: nn.Module, x: torch.Tensor) -> float:
    """The largest magnitude any leaf module outputs for ``x`` (fp32)."""
    peak = [0.0]

    def hook(_m: nn.Module, _i: object, out: object) -> None:
        if isinstance(out, torch.Tensor) and out.is_floating_point():
            peak[0] = max(peak[0], float(out.detach().abs().max()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return peak[0]


def _scores(
    model: nn.Module, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]], dtype: torch.dtype
) -> tuple[float, bool]:
    """Mean PSNR over ``pairs`` of ``model`` run in ``dtype``, and whether every output was finite."""
    scale = int(getattr(model, "scale", 1))
    total, finite = 0.0, True
    with torch.no_grad():
        run = model.to(dtype)
        try:
            for lr, hr in pairs:
                sr = run(lr.to(dtype)).float()
                finite &= bool(torch.isfinite(sr).all())
                sr = sr.nan_to_num(0.0).clamp(0, 1)
                total += float(psnr(sr, hr, data_range=1.0, y_only=hr.shape[1] == 3, shave=scale))
        finally:
            model.float()
    return total / len(pairs), finite


def check_half(model: nn.Module, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]], dtype: torch.dtype) -> HalfCheck:
    """``model`` (fp32, eval) on each (LR (1, C, h, w) in [0, 1], HR) pair in fp32 and in ``dtype``."""
    p32, _ = _scores(model, pairs, torch.float32)
    p16, finite = _scores(model, pairs, dtype)
    peak = max(peak_activation(model, lr) for lr, _ in pairs)
    drop = p32 - p16
    safe = finite and drop <= MAX_DROP_DB and (dtype != torch.float16 or peak <= FP16_PEAK)
    return HalfCheck(str(dtype).replace("torch.", ""), finite, p32, p16, drop, peak, safe)


RECORD = "bench/results/precision_safety_cpu.json"
# (fp16 safe, bf16 safe, the worst measured drop) per architecture whose official files were
# measured by bench/precision_safety.py; tests/test_precision_safety.py keeps this equal to RECORD
MEASURED: dict[str, tuple[bool, bool, str]] = {
    "bsrn": (True, True, "worst Set5 drop: fp16 0.001 dB (x4), bf16 0.018 dB (x4)"),
    "carn_m": (True, True, "worst Set5 drop: fp16 0.001 dB (x4), bf16 0.007 dB (x4)"),
    "efdn": (True, True, "worst Set5 drop: fp16 0.002 dB (x4), bf16 0.007 dB (x4)"),
    "fsrcnn": (True, False, "worst Set5 drop: fp16 0.040 dB (x2), bf16 0.235 dB (x2)"),
    "imdn": (True, False, "worst Set5 drop: fp16 0.001 dB (x4), bf16 0.080 dB (x2)"),
    "rfdn": (True, True, "worst Set5 drop: fp16 -0.000 dB (x4), bf16 0.013 dB (x4)"),
    "rlfn": (True, False, "worst Set5 drop: fp16 0.000 dB (x2), bf16 0.152 dB (x2)"),
    "span": (True, True, "worst Set5 drop: fp16 0.002 dB (x4), bf16 0.037 dB (x4)"),
}
UNMEASURED = "declared, not measured (no official file of this architecture was checked)"


def declared(arch: str, fp16: bool, bf16: bool) -> tuple[bool, bool, str]:
    """(fp16 safe, bf16 safe, where that comes from) for ``arch``: the measurement where there is
    one, else the architecture's own declaration (``fp16`` / ``bf16``)."""
    if arch in MEASURED:
        f, b, worst = MEASURED[arch]
        return f, b, f"measured on the official files ({RECORD}); {worst}"
    return fp16, bf16, UNMEASURED
