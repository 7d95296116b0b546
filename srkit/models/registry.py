"""The model registry: plain functions registered by explicit imports (timm's shape).

``create_model('imdn', scale=4)`` builds a model; ``list_models()`` names them all. Each model file
decorates its constructor with :func:`register`; ``srkit.models`` imports every model file
explicitly, so the registry is complete as soon as the package is imported.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from .base import SRNet
from .errors import ModelArgsError

Constructor = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its constructor and what is known about it.

    ``paper_params``: (configuration, count, unit, source) rows: a configuration (``scale`` plus
    constructor keywords) whose parameter count a paper or an official file gives, to the precision
    ``unit`` (1 for exact counts of released files, 1000 for "694K"); the tests check the zoo
    against them (within one unit of the published last digit).
    """

    name: str
    fn: Constructor
    scales: tuple[int, ...]
    summary: str
    paper_params: tuple[tuple[dict[str, Any], int, int, str], ...] = field(default=())


_REGISTRY: dict[str, ModelEntry] = {}


def register(
    name: str,
    *,
    scales: tuple[int, ...] = (2, 3, 4),
    summary: str = "",
    paper_params: tuple[tuple[dict[str, Any], int, int, str], ...] = (),
) -> Callable[[Constructor], Constructor]:
    """Register ``fn(scale=..., **kwargs) -> nn.Module`` under ``name``."""

    def deco(fn: Constructor) -> Constructor:
        if name in _REGISTRY:
            raise ValueError(f"srkit.models: {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(
            name, fn, scales, summary or (fn.__doc__ or "").strip().splitlines()[0], paper_params
        )
        return fn

    return deco


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(_REGISTRY)


def model_entry(name: str) -> ModelEntry:
    key = name.lower().replace("-", "_")
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, _REGISTRY, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ModelArgsError(f"srkit.models: unknown model {name!r}{hint} (list_models() names all {len(_REGISTRY)})")
    return _REGISTRY[key]


def create_model(name: str, scale: int = 4, **kwargs: Any) -> nn.Module:
    """Build model ``name`` for upscaling factor ``scale``; ``kwargs`` go to its constructor.

    The model records how it was built (``arch``, ``hparams``) so :func:`srkit.models.save` can
    write a checkpoint that rebuilds it. ``input_mean`` (any :class:`~srkit.models.SRNet`): per-channel
    mean subtracted from the input and added to the output, ``input_std`` (with a mean) the scale the
    input is divided by and the output multiplied by (:meth:`SRNet.subtract_mean`).
    """
    input_mean, input_std = kwargs.pop("input_mean", None), float(kwargs.pop("input_std", 1.0))
    if input_mean is None and input_std != 1.0:
        raise ModelArgsError(f"srkit.models: input_std={input_std} needs an input_mean")
    entry = model_entry(name)
    if scale not in entry.scales:
        raise ModelArgsError(f"srkit.models: {entry.name} supports scales {entry.scales}, not {scale}")
    params = inspect.signature(entry.fn).parameters
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        raise ModelArgsError(
            f"srkit.models: {entry.name} has no argument(s) {unknown}; it takes {[p for p in params if p != 'scale']}"
        )
    try:
        model = entry.fn(scale=scale, **kwargs)
    except (ValueError, TypeError) as e:  # a value the constructor cannot take, named by it
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise ModelArgsError(f"srkit.models: {entry.name}(scale={scale}{', ' if shown else ''}{shown}): {e}") from e
    model.arch = entry.name
    model.hparams = _plain({"scale": scale, **kwargs})
    if input_mean is not None:
        set_input_mean(model, input_mean, input_std)
    return model


def set_input_mean(model: nn.Module, mean: list[float] | tuple[float, ...], std: float = 1.0) -> nn.Module:
    """Give a built zoo model input normalisation (:meth:`SRNet.subtract_mean`) and record it among
    its hyper-parameters, as ``create_model(..., input_mean=mean, input_std=std)`` would have."""
    if not isinstance(model, SRNet):
        raise TypeError(f"srkit.models: {type(model).__name__} is not an SRNet; input_mean does not apply")
    model.subtract_mean(mean, std)
    if hasattr(model, "hparams"):
        std_hp = {} if std == 1.0 else {"input_std": float(std)}  # checkpoints from before std stay as they were
        model.hparams = {**model.hparams, "input_mean": _plain(mean)} | std_hp
    return model


def _plain(v: Any) -> Any:
    """Tuples as lists (as JSON stores them), so saved and reloaded hyper-parameters compare equal."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
