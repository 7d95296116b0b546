"""RCAN's published layouts: the authors' (yulunzhang/RCAN, built on EDSR-PyTorch, so named as
EDSR's official files are) and BasicSR's (``conv_first``, ``body.G.residual_group.B.rcab.K``,
``body.G.conv``, ``conv_after_body``, ``upsample.K``, ``conv_last``; the mean outside the state dict).
"""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, Layout, count_ids, renamed
from ..edsr.layouts import io_range_of, mean_shifts, official_names, upsampler_scale
from ..errors import StateDict

_P = r"(weight|bias)"


def official(sd: StateDict) -> StateDict | None:
    """The authors' names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if not all(k in sd for k in ("sub_mean.weight", "head.0.weight", "body.0.body.0.body.3.conv_du.0.weight")):
        return None
    return official_names(sd)


def basicsr(sd: StateDict) -> StateDict | None:
    """BasicSR's names renamed to srkit's (mean shifts made for [0, 255]), or None if not that layout."""
    if "conv_first.weight" not in sd or "body.0.residual_group.0.rcab.0.weight" not in sd:
        return None
    groups = count_ids(sd, r"body\.(\d+)\.conv\.weight$")
    blocks = count_ids(sd, r"body\.0\.residual_group\.(\d+)\.rcab\.0\.weight$")
    rules = [
        (rf"conv_first\.{_P}", r"head.\1"),
        (rf"body\.(\d+)\.residual_group\.(\d+)\.rcab\.([02])\.{_P}", r"body.\1.body.\2.body.\3.\4"),
        (rf"body\.(\d+)\.residual_group\.(\d+)\.rcab\.3\.attention\.1\.{_P}", r"body.\1.body.\2.body.3.conv_du.0.\3"),
        (rf"body\.(\d+)\.residual_group\.(\d+)\.rcab\.3\.attention\.3\.{_P}", r"body.\1.body.\2.body.3.conv_du.2.\3"),
        (rf"body\.(\d+)\.conv\.{_P}", rf"body.\1.body.{blocks}.\2"),
        (rf"conv_after_body\.{_P}", rf"body.{groups}.\1"),
        (rf"upsample\.(\d+)\.{_P}", r"tail.0.\1.\2"),
        (rf"conv_last\.{_P}", r"tail.1.\1"),
    ]
    return {**renamed(sd, rules, "RCAN (BasicSR)"), **mean_shifts(255.0)}


def _rcan(sd: StateDict) -> tuple[str, dict[str, Any]]:
    head = sd["head.weight"]
    channels = head.shape[0]
    scale = upsampler_scale(sd, channels, "RCAN")
    return "rcan", {
        "scale": scale,
        "channels": channels,
        "groups": count_ids(sd, r"body\.(\d+)\.body\.0\.body\.0\.weight$"),
        "blocks": count_ids(sd, r"body\.0\.body\.(\d+)\.body\.3\.conv_du\.0\.weight$"),
        "reduction": channels // sd["body.0.body.0.body.3.conv_du.0.weight"].shape[0],
        "io_range": io_range_of(sd),
    }


ARCHS = (
    ArchSupport(
        "rcan",
        ("sub_mean.shifter.weight", "head.weight", "body.0.body.0.body.3.conv_du.0.weight", "tail.1.weight"),
        _rcan,
        layouts=(Layout("RCAN (official repository / EDSR-PyTorch)", official), Layout("RCAN (BasicSR)", basicsr)),
    ),
)
