"""Whether a model is safe in fp16 / bf16, measured on real weights and a real image.

A half-precision run is *safe* when its output is finite and its mean PSNR against the HR images (Y,
the scale shaved, as the benchmark protocol scores) is within :data:`MAX_DROP_DB` of the fp32 run's;
fp16 also needs its largest activation well inside fp16's range (:data:`FP16_PEAK`), since a
brighter or larger image than the probe can overflow where this one did not. ``bench/precision_safety.py``
records the checks for the official files, and each architecture's ``supports_fp16`` /
``supports_bf16`` follows the record (``tests/test_precision_safety.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..data.color import rgb2ycbcr
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


def _peak_hooks(model: nn.Module, peak: list[float]) -> list[torch.utils.hooks.RemovableHandle]:
    """Hooks on every leaf module that raise ``peak[0]`` to the largest magnitude it outputs."""

    def hook(_m: nn.Module, _i: object, out: object) -> None:
        if isinstance(out, torch.Tensor) and out.is_floating_point():
            peak[0] = max(peak[0], float(out.detach().abs().max()))

    return [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]


def _scores(
    model: nn.Module, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]], dtype: torch.dtype
) -> tuple[float, bool, float]:
    """Mean PSNR over ``pairs`` of ``model`` run in ``dtype``, whether every output was finite, and
    the largest activation any leaf module produced (one pass does all three)."""
    scale = int(getattr(model, "scale", 1))
    total, finite, peak = 0.0, True, [0.0]
    # a copy in ``dtype``: casting the model itself and back would leave its weights rounded
    run = model if dtype == torch.float32 else copy.deepcopy(model).to(dtype)
    handles = _peak_hooks(run, peak)
    try:
        with torch.no_grad():
            for lr, hr in pairs:
                sr = run(lr.to(dtype)).float()
                finite &= bool(torch.isfinite(sr).all())
                sr = sr.nan_to_num(0.0).clamp(0, 1)
                total += float(psnr(sr, hr, data_range=1.0, y_only=hr.shape[1] == 3, shave=scale))
    finally:
        for h in handles:
            h.remove()
    return total / len(pairs), finite, peak[0]


def fp32_reference(model: nn.Module, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    """(mean fp32 PSNR, largest fp32 activation) of ``model`` on ``pairs``: what each dtype is checked against."""
    p32, _, peak = _scores(model, pairs, torch.float32)
    return p32, peak


def check_half(
    model: nn.Module,
    pairs: Sequence[tuple[torch.Tensor, torch.Tensor]],
    dtype: torch.dtype,
    reference: tuple[float, float] | None = None,
) -> HalfCheck:
    """``model`` (fp32, eval) on each (LR (1, C, h, w) in [0, 1], HR) pair in fp32 and in ``dtype``;
    ``reference``: :func:`fp32_reference`'s result, to check several dtypes against one fp32 run."""
    p32, peak = reference if reference is not None else fp32_reference(model, pairs)
    p16, finite, _ = _scores(model, pairs, dtype)
    drop = p32 - p16
    safe = finite and drop <= MAX_DROP_DB and (dtype != torch.float16 or peak <= FP16_PEAK)
    return HalfCheck(str(dtype).replace("torch.", ""), finite, p32, p16, drop, peak, safe)


def centre_pair(
    lr: torch.Tensor, hr: torch.Tensor, scale: int, channels: int, side: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre (at most ``side`` x ``side`` LR pixels) of a uint8 (LR, HR) pair as floats in [0, 1],
    batched; Y (MATLAB's) for a 1-channel model. The probe the half-precision checks run on."""
    h, w = (min(side, n) for n in lr.shape[1:])
    top, left = (lr.shape[1] - h) // 2, (lr.shape[2] - w) // 2
    lr = lr[:, top : top + h, left : left + w].float()[None] / 255
    hr = hr[:, top * scale : (top + h) * scale, left * scale : (left + w) * scale].float()[None] / 255
    if channels == 1:
        lr, hr = (rgb2ycbcr(t.double())[:, :1].float() for t in (lr, hr))
    return lr, hr


# measured by bench/precision_safety.py, one file per CPU: bf16 loses more on an AVX2-only CPU (FSRCNN
# x3 0.077 dB on the AVX2 AMD EPYC, 0.024 dB in the first file, whose CPU it did not record, and on an
# AMD EPYC with avx512_bf16), so an architecture is safe only where every CPU measured says so;
# tests/test_precision_safety.py keeps MEASURED equal to the files
RECORDS = (
    "bench/results/precision_safety_cpu.json",
    "bench/results/precision_safety_cpu_amd-epyc.json",
    "bench/results/precision_safety_cpu_amd-epyc_avx512-bf16.json",
)
# (fp16 safe, bf16 safe, the worst drop measured on any of them)
MEASURED: dict[str, tuple[bool, bool, str]] = {
    "bsrn": (True, True, "worst Set5 drop: fp16 0.001 dB (x4), bf16 0.026 dB (x4)"),
    "carn_m": (True, True, "worst Set5 drop: fp16 0.001 dB (x4), bf16 0.008 dB (x4)"),
    "efdn": (True, True, "worst Set5 drop: fp16 0.002 dB (x4), bf16 0.011 dB (x4)"),
    "fsrcnn": (True, False, "worst Set5 drop: fp16 0.040 dB (x2), bf16 0.456 dB (x2)"),
    "imdn": (True, False, "worst Set5 drop: fp16 0.001 dB (x4), bf16 0.132 dB (x2)"),
    "rfdn": (True, True, "worst Set5 drop: fp16 -0.000 dB (x4), bf16 0.013 dB (x4)"),
    "rlfn": (True, True, "worst Set5 drop: fp16 0.000 dB (x2), bf16 0.046 dB (x2)"),
    "span": (True, True, "worst Set5 drop: fp16 0.002 dB (x4), bf16 0.040 dB (x4)"),
}
UNMEASURED = "declared, not measured (no official file of this architecture was checked)"


def declared(arch: str, fp16: bool, bf16: bool) -> tuple[bool, bool, str]:
    """(fp16 safe, bf16 safe, where that comes from) for ``arch``: the measurement where there is
    one, else the architecture's own declaration (``fp16`` / ``bf16``)."""
    if arch in MEASURED:
        f, b, worst = MEASURED[arch]
        return f, b, f"measured on the official files on {len(RECORDS)} CPUs ({', '.join(RECORDS)}); {worst}"
    return fp16, bf16, UNMEASURED
