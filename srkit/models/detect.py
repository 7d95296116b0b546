"""Recognise an architecture, its layout and its hyper-parameters from a state dict (spandrel's way).

Every family's :class:`~srkit.models.arch.ArchSupport` objects sit in ``<family>/layouts.py`` beside
its models; :data:`ARCHS` gathers them from :data:`srkit.models.families.FAMILIES`. :func:`find` asks every one of them,
so the order decides nothing: when two match, the one that declares it ``supersedes`` the other
wins, and any other overlap is an error naming both (a detector that needs tightening, never a
silent pick). ``tests/test_detect.py`` round-trips every zoo model through detection to keep it so.
"""

from __future__ import annotations

from typing import Any

from . import families
from .arch import ArchSupport, Detection
from .errors import CheckpointError, StateDict

__all__ = ["ARCHS", "CheckpointError", "StateDict", "detect", "find", "support", "to_srkit_layout"]

ARCHS: tuple[ArchSupport, ...] = families.supports()


def support(name: str) -> ArchSupport:
    """The registered support called ``name`` (a family: ``edsr`` covers EDSR and EDSR-baseline)."""
    for arch in ARCHS:
        if arch.name == name:
            return arch
    raise KeyError(f"srkit.models.detect: no architecture support named {name!r} ({', '.join(a.name for a in ARCHS)})")


def find(sd: StateDict, arch: str | None = None) -> Detection:
    """The one architecture ``sd`` holds, in whichever published layout, or CheckpointError.

    ``arch``: a registry name to choose among several matches (none match: the others are reported)."""
    found = [(support, d) for support in ARCHS if (d := support.detect(sd)) is not None]
    if arch is not None and any(d.name == arch for _, d in found):
        found = [(support, d) for support, d in found if d.name == arch]
    beaten = {loser for support, _ in found for loser in support.supersedes}
    kept = [(support, d) for support, d in found if support.name not in beaten]
    if len(kept) == 1:
        return kept[0][1]
    if kept:
        names = ", ".join(support.name for support, _ in kept)
        raise CheckpointError(
            f"this state dict matches more than one architecture ({names}); pass arch= to choose, "
            "and report it: one of srkit's detectors needs tightening"
        )
    raise CheckpointError(_unknown(sd))


def _unknown(sd: StateDict) -> str:
    """One line: the closest architecture (most identifying keys present) and what it lacked."""
    shown = ", ".join(list(sd)[:6])
    closest = max(ARCHS, key=lambda a: len(a.keys) - len(a.missing(sd)))
    near = ""
    if len(closest.missing(sd)) < len(closest.keys):
        near = f"; closest: {closest.name}, which lacks {', '.join(closest.missing(sd)[:3]) or 'its shape checks'}"
    return (
        f"no srkit architecture matches this state dict ({len(sd)} tensors; first keys: {shown}){near}. "
        f"Known: {', '.join(sorted({a.name for a in ARCHS}))} (each in its published layouts) and srkit's own checkpoints"
    )


def to_srkit_layout(sd: StateDict) -> tuple[StateDict, str | None]:
    """``sd`` in srkit's module names, and the name of the layout it came in (None: srkit's own)."""
    found = find(sd)
    return found.state, found.layout


def detect(sd: StateDict) -> tuple[str, dict[str, Any]]:
    """(registry name, constructor keywords) for a state dict in any layout srkit knows, or CheckpointError.

    ``scale`` is included when the weights determine it (a sub-pixel upsampler's width); CARN's
    multi-scale files, FSRCNN's transposed convolution and the models on pre-upscaled input do not.
    """
    found = find(sd)
    return found.name, dict(found.kwargs)
