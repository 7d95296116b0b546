"""One object per architecture that reads foreign checkpoints (spandrel's ``ArchSupport`` shape).

An :class:`ArchSupport` knows the tensors that identify its architecture in srkit's module names
(``keys``, plus an optional ``check`` on shapes), reads the hyper-parameters from key names and
shapes (``hparams``), and renames each published layout of the same network into srkit's names
(``layouts``). ``detect(sd)`` says whether a state dict holds it; ``load(sd)`` builds and fills the
network. Each family's supports live in ``<family>/layouts.py`` beside its models; :mod:`.detect`
registers them in one explicit order and resolves overlaps by the ``supersedes`` they declare.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .errors import CheckpointError, StateDict
from .registry import create_model

Hparams = Callable[[StateDict], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Layout:
    """A published layout: ``rename(sd)`` gives ``sd`` in srkit's names, or None when ``sd`` is not in it.

    ``implies``: constructor keywords the layout fixes but its tensors do not show (the value range
    its authors trained on, e.g. ``(("io_range", 255.0),)``).
    """

    name: str
    rename: Callable[[StateDict], StateDict | None]
    implies: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Detection:
    """What :meth:`ArchSupport.detect` found: the registry name, its keywords, the layout and the renamed tensors."""

    support: ArchSupport | None  # None: srkit's own checkpoint, named by its metadata
    name: str
    kwargs: dict[str, Any]
    layout: str | None  # None: srkit's own module names
    state: StateDict


@dataclass(frozen=True)
class ArchSupport:
    """Detection and loading for one architecture (``name``: its family, for errors and conflicts).

    ``supersedes``: families whose detector also accepts this one's files (a superset of their
    keys), with ``why``; :func:`srkit.models.detect.find` keeps this one when both match.
    """

    name: str
    keys: tuple[str, ...]
    hparams: Hparams
    layouts: tuple[Layout, ...] = ()
    check: Callable[[StateDict], bool] | None = None
    supersedes: tuple[str, ...] = ()
    why: str = ""

    def holds(self, sd: StateDict) -> bool:
        """``sd`` (in srkit's names) is this architecture."""
        return all(k in sd for k in self.keys) and (self.check is None or self.check(sd))

    def detect(self, sd: StateDict) -> Detection | None:
        """This architecture in any of its layouts (the published ones first), or None."""
        for layout in self.layouts:
            state = layout.rename(sd)
            if state is not None and self.holds(state):
                name, kwargs = self.hparams(state)
                return Detection(self, name, {**kwargs, **dict(layout.implies)}, layout.name, state)
        if self.holds(sd):
            return Detection(self, *self.hparams(sd), None, sd)
        return None

    def load(self, sd: StateDict, **overrides: Any) -> nn.Module:
        """The network ``sd`` holds, filled, in eval mode (``overrides``: constructor keywords, e.g. ``scale``)."""
        found = self.detect(sd)
        if found is None:
            raise CheckpointError(f"the state dict is not a {self.name} network in any layout srkit knows")
        return build(found, {**found.kwargs, **overrides}, self.name)

    def missing(self, sd: StateDict) -> list[str]:
        """The identifying keys ``sd`` lacks (for naming the closest architecture in an error)."""
        return [k for k in self.keys if k not in sd]


def build(found: Detection, kwargs: dict[str, Any], what: str) -> nn.Module:
    """``create_model(found.name, **kwargs)`` filled from ``found.state``, recording its source layout."""
    model = create_model(found.name, **kwargs)
    load_state(model, found.state, what)
    model.source_layout = found.layout  # recorded in model.info
    return model.eval()


def load_state(model: nn.Module, sd: StateDict, what: str) -> None:
    """``load_state_dict(strict=True)`` with an error naming missing, unexpected and mis-shaped tensors."""
    own = model.state_dict()
    shapes = [
        f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in sd.items()
        if k in own and own[k].shape != v.shape
    ]
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    if shapes or missing or unexpected:
        parts = []
        if shapes:
            parts.append(f"{len(shapes)} shape mismatch(es): {'; '.join(shapes[:3])}")
        if missing:
            parts.append(f"{len(missing)} missing: {', '.join(missing[:4])}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected: {', '.join(unexpected[:4])}")
        raise CheckpointError(f"{what}: the checkpoint does not match the model ({' | '.join(parts)})")
    model.load_state_dict(sd, strict=True)


def count_ids(sd: StateDict, pattern: str) -> int:
    """How many distinct values ``pattern``'s first group takes over the keys (blocks, layers)."""
    rx = re.compile(pattern)
    return len({m.group(1) for k in sd if (m := rx.match(k))})


def subpixel_scale(weight: torch.Tensor, out_channels: int, what: str) -> int:
    """The scale of a sub-pixel conv's ``weight`` that makes ``out_channels * scale^2`` outputs."""
    s = math.isqrt(weight.shape[0] // out_channels)
    if s * s * out_channels != weight.shape[0]:
        raise CheckpointError(f"{what}: upsampler has {weight.shape[0]} outputs, not {out_channels} x scale^2")
    return s


def renamed(sd: StateDict, rules: list[tuple[str, str]], what: str) -> StateDict:
    """``sd`` with each key rewritten by the first ``(regex, replacement)`` that matches it in full;
    a key no rule matches is an error naming it (a layout is renamed whole, or not at all)."""
    compiled = [(re.compile(p), r) for p, r in rules]
    out: StateDict = {}
    for k, v in sd.items():
        for rx, rep in compiled:
            if m := rx.fullmatch(k):
                out[m.expand(rep)] = v
                break
        else:
            raise CheckpointError(f"{what} layout: unexpected tensor {k!r}")
    return out
