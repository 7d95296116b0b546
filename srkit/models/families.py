"""The zoo's families, listed once. A family is a folder ``srkit/models/<family>/``: its models in
``__init__.py`` (each registered with ``@register``, with ``SMALL``, a small configuration of each
for quick checks, and ``UNDETECTABLE``, those whose weights cannot name them), and their published
checkpoint layouts in ``layouts.py`` (``ARCHS``: what detection needs). The registry, the detection
list and the tests' model lists are all derived from :data:`FAMILIES`: no folder scanning."""

from __future__ import annotations

import importlib
from types import ModuleType

from . import (
    blocknet,
    bsrn,
    carn,
    deconasnet,
    edsr,
    efdn,
    espcn,
    esrgan,
    fsrcnn,
    imdn,
    lapsrn,
    rcan,
    rdn,
    rfdn,
    rlfn,
    span,
    srcnn,
    srresnet,
    swinir,
    vdsr,
    wdsr,
)
from .arch import ArchSupport

# in the order detection reports them (every support is asked; a tie needs `supersedes`)
FAMILIES: tuple[ModuleType, ...] = (
    imdn,
    rfdn,
    rlfn,
    span,
    efdn,
    bsrn,
    carn,
    fsrcnn,
    espcn,
    srcnn,
    vdsr,
    lapsrn,
    edsr,
    rcan,
    rdn,
    srresnet,
    wdsr,
    swinir,
    esrgan,
    blocknet,
    deconasnet,
)


def layouts(family: ModuleType) -> ModuleType | None:
    """The family's ``layouts`` module, or None for a family with no published checkpoints."""
    name = f"{family.__name__}.layouts"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
        return None


def supports() -> tuple[ArchSupport, ...]:
    """Every family's architecture supports (detection's list)."""
    return tuple(s for f in FAMILIES if (lay := layouts(f)) is not None for s in lay.ARCHS)


def small_configs() -> dict[str, dict]:
    """{model name: a small configuration} over every family."""
    return {name: kw for f in FAMILIES for name, kw in getattr(f, "SMALL", {}).items()}


def undetectable() -> dict[str, str]:
    """{model name: why its weights cannot name it} over every family."""
    return {name: why for f in FAMILIES for name, why in getattr(f, "UNDETECTABLE", {}).items()}
