"""Reading and writing model checkpoints.

``load(path)`` accepts srkit's safetensors files (the architecture and hyper-parameters are in the
metadata) and the official ``.pth`` releases that :mod:`.detect` recognises. ``.pth`` files are read
with ``torch.load(weights_only=True)``: no pickled code runs. ``save`` writes safetensors atomically.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import __version__, atomic
from . import hub
from .arch import Detection, build
from .detect import CheckpointError, StateDict, find

# the EMA copy first where a file holds both (BasicSR's params_ema, timm's state_dict_ema)
WRAPPERS = ("params_ema", "state_dict_ema", "model_ema", "params", "state_dict", "model", "net", "generator")
PREFIXES = ("module.", "model.", "net.", "_orig_mod.")  # DataParallel / DDP, wrappers, torch.compile
AVERAGED = "n_averaged"  # torch.optim.swa_utils.AveragedModel's counter, beside its module.* copy
META_KEY = "srkit"


def _unwrap(obj: Any, path: str) -> dict[str, torch.Tensor]:
    while isinstance(obj, Mapping) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = next((obj[k] for k in WRAPPERS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            raise CheckpointError(
                f"{path}: a dict without tensors or a known wrapper key ({', '.join(WRAPPERS)}); "
                f"its keys: {list(obj)[:8]}"
            )
        obj = inner
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path}: holds {type(obj).__name__}, not a state dict of tensors")
    sd = dict(obj)
    if AVERAGED in sd and all(k.startswith("module.") for k in sd if k != AVERAGED):
        del sd[AVERAGED]
    for prefix in PREFIXES:
        # a Sequential called `model` (the original ESRGAN's, KAIR's) is the layout itself, not a wrapper
        sequential = all(k[len(prefix) :][:1].isdigit() for k in sd)
        if all(k.startswith(prefix) for k in sd) and not (prefix == "model." and sequential):
            sd = {k[len(prefix) :]: v for k, v in sd.items()}
    return sd


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    """(state dict on the CPU, srkit metadata or None) from a .safetensors or .pth/.pt file."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint file")
    if p.stat().st_size == 0:
        raise CheckpointError(f"{p}: empty file (an interrupted download or copy?)")
    if p.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file, safe_open

        try:
            with safe_open(str(p), framework="pt") as f:
                meta = f.metadata() or {}
            sd = load_file(str(p))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"{p}: corrupt or truncated safetensors file ({e})") from e
        try:
            info = json.loads(meta[META_KEY]) if META_KEY in meta else None
            if info is not None and not (
                isinstance(info, dict) and isinstance(info.get("arch"), str) and isinstance(info.get("hparams"), dict)
            ):
                raise ValueError("expected {'arch': name, 'hparams': {...}}")
        except ValueError as e:
            raise CheckpointError(
                f"{p}: its '{META_KEY}' metadata is not srkit's ({e}); remove it to detect the "
                "architecture from the tensors"
            ) from e
        return _unwrap(sd, str(p)), info
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, zipfile errors...
        raise CheckpointError(
            f"{p}: cannot be read as a PyTorch checkpoint: corrupt, truncated, or it pickles "
            f"code (only weights load) ({type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]})"
        ) from e
    return _unwrap(obj, str(p)), None


def _scale_from_name(path: Path) -> int | None:
    m = re.search(r"(?:^|[^a-z0-9])x([2-8])(?:[^0-9]|$)", path.stem.lower())
    return int(m.group(1)) if m else None


def load(
    path: str | os.PathLike[str], *, scale: int | None = None, arch: str | None = None, **overrides: Any
) -> nn.Module:
    """Build and fill the model a checkpoint holds, in eval mode on the CPU.

    ``scale``: needed where the weights do not fix it (CARN's multi-scale files; FSRCNN, where the
    file name's ``x<s>`` is used otherwise), and checked against them elsewhere. ``arch``: insist on
    an architecture (a mismatch is an error). ``overrides``: constructor keywords (e.g. ``io_range``).
    ``path`` may also name an official checkpoint (``hub.OFFICIAL``, e.g. "imdn_x4"): downloaded once.
    """
    p = Path(path)
    if not p.exists() and str(path) in hub.OFFICIAL:
        p = hub.fetch(str(path))
    sd, info = read_checkpoint(p)
    if info is not None:  # srkit's own file: its metadata names the network
        found = Detection(None, info["arch"], dict(info["hparams"]), None, sd)
    else:
        found = _find_under_prefix(sd, None if arch is None else arch.replace("-", "_").lower())
    name = found.name
    if arch is not None and arch.replace("-", "_").lower() != name:
        raise CheckpointError(f"{p}: holds a {name} network, not {arch}")
    kwargs = {**found.kwargs, "scale": _scale(p, name, found.kwargs, scale)}
    return _finite(build(found, {**kwargs, **overrides}, str(p)), p)


def _finite(model: nn.Module, p: Path) -> nn.Module:
    """``model``, or a :class:`CheckpointError` when a weight it loaded is NaN or infinite (such a
    network writes black or garbage images, never a result)."""
    bad = [n for n, t in model.named_parameters() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise CheckpointError(f"{p}: weight {bad[0]}{more} holds NaN or infinite values: the file is damaged")
    return model


def _find_under_prefix(sd: StateDict, arch: str | None) -> Detection:
    """:func:`find`, retried without a first name every key shares (a Lightning module's attribute,
    ``generator.``, ``sr_net.``, ...) when the keys as they are match nothing."""
    try:
        return find(sd, arch)
    except CheckpointError as outer:
        heads = {k.split(".", 1)[0] for k in sd}
        head = next(iter(heads))
        if len(heads) != 1 or head.isdigit() or not all(k.count(".") >= 2 for k in sd):
            raise  # no shared prefix, or stripping it would leave bare parameter names
        try:
            return find({k[len(head) + 1 :]: v for k, v in sd.items()}, arch)
        except CheckpointError:
            raise CheckpointError(f"{outer} (nor without the '{head}.' every key starts with)") from None


def _scale(p: Path, name: str, kwargs: dict[str, Any], scale: int | None) -> int:
    """The scale to build at: the weights' (checked against ``scale``), CARN's chosen head, or the file name's."""
    if "scales" in kwargs and kwargs["scales"] and "scale" not in kwargs:  # multi-head (CARN)
        heads = tuple(kwargs["scales"])
        if scale is None and len(heads) > 1:
            raise CheckpointError(
                f"{p}: a multi-scale {name} file with heads x{', x'.join(map(str, heads))}; pass scale="
            )
        if scale is not None and scale not in heads:
            raise CheckpointError(f"{p}: {name} file has heads for x{', x'.join(map(str, heads))}, not x{scale}")
        return scale if scale is not None else heads[0]
    if "scale" in kwargs:
        if scale is not None and scale != kwargs["scale"]:
            raise CheckpointError(f"{p}: a x{kwargs['scale']} {name} network, not x{scale}")
        return int(kwargs["scale"])
    named = _scale_from_name(p)
    if scale is not None and named is not None and scale != named:
        raise CheckpointError(
            f"{p}: the file name says x{named}, not x{scale}; the {name} weights do not fix the "
            "scale, so the name is the only record of it (rename the file if the name is wrong)"
        )
    guessed = scale if scale is not None else named
    if guessed is None:
        raise CheckpointError(f"{p}: the {name} weights do not determine the scale; pass scale=")
    return guessed


def save(model: nn.Module, path: str | os.PathLike[str], *, extra: Mapping[str, Any] | None = None) -> None:
    """Write ``model`` (built by ``create_model``) as safetensors with its architecture in the metadata, atomically."""
    from safetensors.torch import save as st_save

    if not hasattr(model, "arch"):
        raise ValueError("srkit.models.save: the model was not built by create_model (no arch/hparams to record)")
    info = {
        "arch": model.arch,
        "hparams": model.hparams,
        "srkit": __version__,
        "input_range": [0.0, 1.0],
        **(dict(extra) if extra else {}),
    }
    sd = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    atomic.write_bytes(path, st_save(sd, metadata={META_KEY: json.dumps(info)}))
