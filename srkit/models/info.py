"""What a loaded model is, for callers that need no per-model code (spandrel's descriptor)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from torch import nn

from .precision import declared


@dataclass(frozen=True)
class ModelInfo:
    """A zoo model's description: ``model.info`` on every :class:`~srkit.models.SRNet`.

    ``min_size`` / ``size_multiple``: what an LR input needs (``srkit.Upscaler``, eval, bench and
    the search's latency pad to it and crop the output). ``fp16`` / ``bf16``: whether half
    precision is safe (finite, and Set5 PSNR within 0.05 dB of fp32 at every scale measured;
    :mod:`srkit.models.precision`); ``precision`` says whether that was measured or only declared. ``tiling``: ``supported``, or ``discouraged``
    with the reason (a whole-image statistic such as IMDN's contrast attention makes tiles differ
    from the whole image beyond their blending band).
    """

    arch: str
    hparams: dict[str, Any]
    scale: int
    in_channels: int
    out_channels: int
    params: int
    input_range: str = "[0, 1] float, NCHW (RGB, or Y for 1 channel)"
    min_size: int = 1
    size_multiple: int = 1
    square: bool = False
    fp16: bool = True
    bf16: bool = True
    precision: str = ""
    tiling: str = "supported"
    layout: str | None = None  # the published layout it was loaded from (None: srkit's own names)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        d = self.as_dict()
        return [f"{k}: {v}" for k, v in d.items() if k != "notes" or v]


def describe(model: nn.Module) -> ModelInfo:
    """The description of ``model`` from what it declares (any module: the defaults where it declares nothing)."""
    arch = str(getattr(model, "arch", type(model).__name__.lower()))
    c = int(getattr(model, "in_channels", 3))
    fp16, bf16, evidence = declared(
        arch, bool(getattr(model, "supports_fp16", True)), bool(getattr(model, "supports_bf16", True))
    )
    return ModelInfo(
        arch=arch,
        hparams=dict(getattr(model, "hparams", {})),
        scale=int(getattr(model, "scale", 1)),
        in_channels=c,
        out_channels=c,
        params=sum(p.numel() for p in model.parameters()),
        min_size=int(getattr(model, "min_size", 1)),
        size_multiple=int(getattr(model, "size_multiple", 1)),
        fp16=fp16,
        bf16=bf16,
        precision=evidence,
        tiling=str(getattr(model, "tiling", "supported")),
        layout=getattr(model, "source_layout", None),
    )
