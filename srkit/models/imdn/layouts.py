"""IMDN's published layouts: the authors' (srkit's names) and KAIR's simplified IMDN.

KAIR saves its IMDN as one Sequential (``model.0`` head, ``model.1.sub.N`` blocks and the body
conv, ``model.2`` the sub-pixel conv). Its blocks have no contrast attention and no global 1x1
fusion: a different network from the paper's, built here as ``imdn_simplified``.
"""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, Layout, count_ids, renamed, subpixel_scale
from ..errors import StateDict


def _imdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.weight"].shape[1]
    return "imdn", {
        "scale": subpixel_scale(sd["upsampler.0.weight"], cin, "IMDN"),
        "channels": sd["fea_conv.weight"].shape[0],
        "blocks": count_ids(sd, r"IMDB(\d+)\."),
        "in_channels": cin,
    }


def _simplified(sd: StateDict) -> tuple[str, dict[str, Any]]:
    cin = sd["fea_conv.weight"].shape[1]
    return "imdn_simplified", {
        "scale": subpixel_scale(sd["upsampler.0.weight"], cin, "IMDN (KAIR)"),
        "channels": sd["fea_conv.weight"].shape[0],
        "blocks": count_ids(sd, r"blocks\.(\d+)\."),
        "in_channels": cin,
    }


def kair(sd: StateDict) -> StateDict | None:
    """KAIR's sequential names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "model.1.sub.0.conv1.0.weight" not in sd or "model.1.sub.0.conv1x1.weight" not in sd:
        return None
    blocks = count_ids(sd, r"model\.1\.sub\.(\d+)\.conv1\.0\.")
    p = r"(weight|bias)"
    return renamed(
        sd,
        [
            (rf"model\.0\.{p}", r"fea_conv.\1"),
            (rf"model\.1\.sub\.(\d+)\.conv([123])\.0\.{p}", r"blocks.\1.c\2.\3"),
            (rf"model\.1\.sub\.(\d+)\.conv4\.{p}", r"blocks.\1.c4.\2"),
            (rf"model\.1\.sub\.(\d+)\.conv1x1\.{p}", r"blocks.\1.c5.\2"),
            (rf"model\.1\.sub\.{blocks}\.{p}", r"LR_conv.\1"),
            (rf"model\.2\.{p}", r"upsampler.0.\1"),
        ],
        "IMDN (KAIR)",
    )


ARCHS = (
    ArchSupport("imdn", ("fea_conv.weight", "IMDB1.c1.weight", "IMDB1.cca.conv_du.0.weight"), _imdn),
    ArchSupport(
        "imdn_simplified",
        ("fea_conv.weight", "blocks.0.c1.weight", "blocks.0.c5.weight", "LR_conv.weight"),
        _simplified,
        layouts=(Layout("IMDN (KAIR)", kair),),
    ),
)
