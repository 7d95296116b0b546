"""Recognise an architecture and its hyper-parameters from a state dict's keys and shapes (spandrel's way).

Covers the official releases of IMDN, RFDN, RLFN, SPAN, EFDN, BSRN, CARN / CARN-M and FSRCNN. Each
rule returns the registry name and the keyword arguments that rebuild the network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import torch

from . import edsr_layouts, esrgan_layouts, swinir_layouts
from .errors import CheckpointError, StateDict

__all__ = ["CheckpointError", "StateDict", "detect", "to_srkit_layout"]


def _count(sd: StateDict, pattern: str) -> int:
    rx = re.compile(pattern)
    return len({m.group(1) for k in sd if (m := rx.match(k))})


def _subpixel_scale(weight: torch.Tensor, out_channels: int, what: str) -> int:
    s = math.isqrt(weight.shape[0] // out_channels)
    if s * s * out_channels != weight.shape[0]:
        raise CheckpointError(f"{what}: upsampler has {weight.shape[0]} outputs, not {out_channels} x scale^2")
    return s


def _imdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.weight"].shape[1]
    return "imdn", {
        "scale": _subpixel_scale(sd["upsampler.0.weight"], cin, "IMDN"),
        "channels": sd["fea_conv.weight"].shape[0],
        "blocks": _count(sd, r"IMDB(\d+)\."),
        "in_channels": cin,
    }


def _rfdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.weight"].shape[1]
    return "rfdn", {
        "scale": _subpixel_scale(sd["upsampler.0.weight"], cin, "RFDN"),
        "channels": sd["fea_conv.weight"].shape[0],
        "blocks": _count(sd, r"B(\d+)\."),
        "in_channels": cin,
        "io_range": 255.0,
    }


def _rlfn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["conv_1.weight"].shape[1]
    return "rlfn", {
        "scale": _subpixel_scale(sd["upsampler.0.weight"], cin, "RLFN"),
        "channels": sd["conv_1.weight"].shape[0],
        "mid": sd["block_1.c1_r.weight"].shape[0],
        "blocks": _count(sd, r"block_(\d+)\."),
        "esa_channels": sd["block_1.esa.conv1.weight"].shape[0],
        "in_channels": cin,
        "io_range": 255.0,
    }


def _span(sd: StateDict) -> tuple[str, dict[str, Any]]:
    w = sd["conv_1.eval_conv.weight"] if "conv_1.eval_conv.weight" in sd else sd["conv_1.sk.weight"]
    return "span", {
        "scale": _subpixel_scale(sd["upsampler.0.weight"], w.shape[1], "SPAN"),
        "channels": w.shape[0],
        "in_channels": w.shape[1],
        "deploy": "conv_1.sk.weight" not in sd,
    }


def _span_training(sd: StateDict) -> dict[str, Any] | None:
    """SPAN as its authors' training code (and spandrel) save it: each Conv3XC's branches *and* the
    folded ``eval_conv`` they were last folded into. The branches are the weights (srkit folds them
    on use, so a stale copy cannot disagree); the copies are dropped. None for any other layout."""
    if "conv_1.sk.weight" not in sd or "conv_1.eval_conv.weight" not in sd or "conv_cat.weight" not in sd:
        return None
    return {k: v for k, v in sd.items() if ".eval_conv." not in k}


def _efdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["head.weight"].shape[1]
    return "efdn", {
        "scale": _subpixel_scale(sd["tail.0.weight"], cin, "EFDN"),
        "channels": sd["head.weight"].shape[0],
        "in_channels": cin,
    }


def _bsrn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.pw.weight"].shape[1] // 4
    return "bsrn", {
        "scale": _subpixel_scale(sd["upsampler.upsampleOneStep.0.weight"], cin, "BSRN"),
        "channels": sd["fea_conv.pw.weight"].shape[0],
        "blocks": _count(sd, r"B(\d+)\."),
        "in_channels": cin,
    }


def _carn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    channels = sd["entry.weight"].shape[0]
    heads = {m.group(1) for k in sd if (m := re.match(r"upsample\.up(\d+)\.", k))}
    scales = tuple(sorted(int(s) for s in heads))
    if "b1.b1.body.4.weight" in sd:  # CARN-M's efficient residual unit ends in a 1x1
        groups = channels // sd["b1.b1.body.0.weight"].shape[1]
        return "carn_m", {"channels": channels, "groups": groups, "scales": scales}
    return "carn", {"channels": channels, "scales": scales}


def _fsrcnn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    w = sd["first_part.0.weight"]
    m = sum(1 for k, v in sd.items() if k.startswith("mid_part.") and k.endswith(".weight") and v.dim() == 4) - 2
    return "fsrcnn", {"d": w.shape[0], "s": sd["mid_part.0.weight"].shape[0], "m": m, "in_channels": w.shape[1]}


Rule = Callable[[StateDict], tuple[str, dict[str, Any]]]
RULES: tuple[tuple[tuple[str, ...], Rule], ...] = (
    (("fea_conv.weight", "IMDB1.c1.weight", "IMDB1.cca.conv_du.0.weight"), _imdn),
    (("fea_conv.weight", "B1.c1_d.weight", "B1.esa.conv_max.weight"), _rfdn),
    (("fea_conv.pw.weight", "B1.cw", "B1.c1_r.dw.weight"), _bsrn),
    (("conv_1.weight", "block_1.c1_r.weight", "block_1.esa.conv1.weight"), _rlfn),
    (("conv_1.eval_conv.weight", "block_1.c1_r.eval_conv.weight", "conv_cat.weight"), _span),
    (("conv_1.sk.weight", "block_1.c1_r.sk.weight", "conv_cat.weight"), _span),  # the training form
    (("head.weight", "cells.0.conv1.conv1x1.weight", "local_fuse.0.weight"), _efdn),
    (("entry.weight", "b1.c1.body.0.weight", "exit.weight"), _carn),
    (("first_part.0.weight", "mid_part.0.weight", "last_part.weight"), _fsrcnn),
    (("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_last.weight"), esrgan_layouts.rrdbnet),
    (("sub_mean.shifter.weight", "head.weight", "body.0.body.0.weight", "tail.1.weight"), edsr_layouts.edsr),
    (
        ("conv_first.weight", "embed_norm.weight", "layers.0.blocks.0.attn.qkv.weight", "upsample.0.weight"),
        swinir_layouts.swinir_light,
    ),
)
# a layout recognised by more than key names (checked after RULES, in this order)
SIGNATURES: tuple[tuple[Callable[[StateDict], bool], Rule], ...] = (
    (esrgan_layouts.is_srvgg, esrgan_layouts.srvgg_compact),
)
# foreign layouts of srkit's architectures, renamed to srkit's module names before detection
LAYOUTS: tuple[tuple[str, Callable[[StateDict], dict[str, Any] | None]], ...] = (
    ("ESRGAN (original repository)", esrgan_layouts.esrgan_old),
    ("ESRGAN (RRDB_trunk release)", esrgan_layouts.esrgan_intermediate),
    ("SwinIR (official repository / KAIR)", swinir_layouts.official),
    ("EDSR (official repository)", edsr_layouts.official),
    ("SPAN (training form with its eval_conv copies)", _span_training),
)


def to_srkit_layout(sd: StateDict) -> tuple[StateDict, str | None]:
    """``sd`` in srkit's module names, and the name of the layout it came in (None: srkit's own)."""
    for name, rename in LAYOUTS:
        renamed = rename(sd)
        if renamed is not None:
            return renamed, name
    return sd, None


def detect(sd: StateDict) -> tuple[str, dict[str, Any]]:
    """(registry name, constructor keywords) for a foreign state dict, or CheckpointError.

    ``scale`` is included when the weights determine it (a sub-pixel upsampler's width); CARN's
    multi-scale files and FSRCNN's transposed convolution do not.
    """
    for keys, rule in RULES:
        if all(k in sd for k in keys):
            return rule(sd)
    for matches, rule in SIGNATURES:
        if matches(sd):
            return rule(sd)
    shown = ", ".join(list(sd)[:6])
    raise CheckpointError(
        f"no srkit architecture matches this state dict ({len(sd)} tensors; first keys: {shown}). "
        "Known: IMDN, RFDN, RLFN, SPAN, EFDN, BSRN, CARN(-M), FSRCNN, EDSR(-baseline), SwinIR-light, RRDBNet (ESRGAN, Real-ESRGAN), "
        "SRVGGNetCompact and srkit's own checkpoints"
    )
