"""SPAN's published layouts: the NTIRE 2024 deploy files (each Conv3XC folded to ``eval_conv``), and
the training form its authors' code and spandrel save (the branches *and* the folded copies)."""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, Layout, subpixel_scale
from ..errors import StateDict


def _span(sd: StateDict) -> tuple[str, dict[str, Any]]:
    w = sd["conv_1.eval_conv.weight"] if "conv_1.eval_conv.weight" in sd else sd["conv_1.sk.weight"]
    return "span", {
        "scale": subpixel_scale(sd["upsampler.0.weight"], w.shape[1], "SPAN"),
        "channels": w.shape[0],
        "in_channels": w.shape[1],
        "deploy": "conv_1.sk.weight" not in sd,
    }


def training(sd: StateDict) -> StateDict | None:
    """The training form's branches, its ``eval_conv`` copies dropped (srkit folds the branches on
    use, so a stale copy cannot disagree); None for any other layout."""
    if "conv_1.sk.weight" not in sd or "conv_1.eval_conv.weight" not in sd or "conv_cat.weight" not in sd:
        return None
    return {k: v for k, v in sd.items() if ".eval_conv." not in k}


def _deploy_or_branches(sd: StateDict) -> bool:
    deploy = "conv_1.eval_conv.weight" in sd and "block_1.c1_r.eval_conv.weight" in sd
    branches = "conv_1.sk.weight" in sd and "block_1.c1_r.sk.weight" in sd
    return deploy != branches


ARCHS = (
    ArchSupport(
        "span",
        ("conv_cat.weight", "upsampler.0.weight"),
        _span,
        layouts=(Layout("SPAN (training form with its eval_conv copies)", training),),
        check=_deploy_or_branches,
    ),
)
