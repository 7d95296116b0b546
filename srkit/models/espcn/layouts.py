"""ESPCN's layouts: srkit's (``body.0/2``, ``upsampler.0``), and the PyTorch port whose weights
circulate (yjn870's ESPCN-pytorch: ``first_part.0/2``, ``last_part.0``; the same 5-3-3 tanh
network on Y). The authors released no weights.
"""

from __future__ import annotations

from typing import Any

from ..arch import ArchSupport, Layout, renamed, subpixel_scale
from ..errors import StateDict

_P = r"(weight|bias)"


def port(sd: StateDict) -> StateDict | None:
    """The port's names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "first_part.0.weight" not in sd or "last_part.0.weight" not in sd or "mid_part.0.weight" in sd:
        return None
    rules = [(rf"first_part\.([02])\.{_P}", r"body.\1.\2"), (rf"last_part\.0\.{_P}", r"upsampler.0.\1")]
    return renamed(sd, rules, "ESPCN (ESPCN-pytorch)")


def _espcn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    first, second = sd["body.0.weight"], sd["body.2.weight"]
    cin = first.shape[1]
    return "espcn", {
        "scale": subpixel_scale(sd["upsampler.0.weight"], cin, "ESPCN"),
        "widths": (first.shape[0], second.shape[0]),
        "in_channels": cin,
    }


def _is_espcn(sd: StateDict) -> bool:
    return set(sd) == {f"{m}.{p}" for m in ("body.0", "body.2", "upsampler.0") for p in ("weight", "bias")}


ARCHS = (
    ArchSupport(
        "espcn",
        ("body.0.weight", "body.2.weight", "upsampler.0.weight"),
        _espcn,
        layouts=(Layout("ESPCN (ESPCN-pytorch)", port),),
        check=_is_espcn,
    ),
)
