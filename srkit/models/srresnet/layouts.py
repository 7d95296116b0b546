"""SRResNet's and MSRResNet's layouts.

SRResNet (the SRGAN paper's, batch norm and PReLU) has no released weights; srkit's own names
are recognised (PReLU only: ReLU and LeakyReLU leave no trace in the weights). MSRResNet, the
modified SRResNet whose files circulate, in BasicSR's names (srkit's) and in the older mmsr / KAIR
``MSRResNet1`` names (``recon_trunk``, ``HRconv``).
"""

from __future__ import annotations

import math
from typing import Any

from ..arch import ArchSupport, Layout, count_ids, renamed
from ..errors import StateDict

_P = r"(weight|bias)"


def mmsr(sd: StateDict) -> StateDict | None:
    """mmsr's / KAIR's MSRResNet1 names renamed to srkit's (BasicSR's), or None if not that layout."""
    if "recon_trunk.0.conv1.weight" not in sd or "HRconv.weight" not in sd:
        return None
    rules = [
        (rf"recon_trunk\.(\d+)\.(conv[12])\.{_P}", r"body.\1.\2.\3"),
        (rf"HRconv\.{_P}", r"conv_hr.\1"),
        (rf"(conv_first|conv_last|upconv1|upconv2)\.{_P}", r"\1.\2"),
    ]
    return renamed(sd, rules, "MSRResNet (mmsr / KAIR)")


def _msrresnet(sd: StateDict) -> tuple[str, dict[str, Any]]:
    first = sd["conv_first.weight"]
    channels = first.shape[0]
    r = math.isqrt(sd["upconv1.weight"].shape[0] // channels)
    return "msrresnet", {
        "scale": 4 if "upconv2.weight" in sd else r,
        "channels": channels,
        "blocks": count_ids(sd, r"body\.(\d+)\.conv1\.weight$"),
        "in_channels": first.shape[1],
    }


def _srresnet(sd: StateDict) -> tuple[str, dict[str, Any]]:
    head = sd["head.0.weight"]
    scale, i = 1, 0
    while f"tail.{i + 2}.weight" in sd:  # each x2 / x3 step: conv (tail.3i), shuffle, PReLU (tail.3i+2)
        scale *= math.isqrt(sd[f"tail.{i}.weight"].shape[0] // head.shape[0])
        i += 3
    return "srresnet", {
        "scale": scale,
        "blocks": count_ids(sd, r"body\.(\d+)\.body\.0\.weight$"),
        "kernel_size": sd["body.0.body.0.weight"].shape[-1],
        "channels": head.shape[0],
        "bn": "body.0.body.1.running_mean" in sd,
    }


ARCHS = (
    ArchSupport(
        "msrresnet",
        ("conv_first.weight", "body.0.conv1.weight", "upconv1.weight", "conv_hr.weight", "conv_last.weight"),
        _msrresnet,
        layouts=(Layout("MSRResNet (mmsr / KAIR MSRResNet1)", mmsr),),
    ),
    ArchSupport("srresnet", ("head.0.weight", "head.1.weight", "body.0.body.0.weight"), _srresnet),
)
