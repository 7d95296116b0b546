"""Genotype files: a searched architecture as JSON, built into a zoo model.

``{"arch": "blocknet", "channels": 16, "blocks": [{"type": "wdsr_b", "expansion": 6}, ...]}`` (what
srkit-search exports) or ``{"arch": "deconasnet", "genotype": [...]}``: ``arch`` names the zoo
constructor and the other keys are its arguments; keys starting with ``_`` are notes (the search's
scores) and are not passed on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from .errors import ModelArgsError
from .registry import create_model


def read_genotype(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        spec = json.loads(p.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such genotype file") from None
    except IsADirectoryError:
        raise ModelArgsError(f"{p}: a folder, not a genotype file") from None
    except ValueError as e:  # invalid JSON, or bytes that are not text
        raise ModelArgsError(f"{p}: not a genotype (invalid JSON: {e})") from None
    if not isinstance(spec, dict):
        raise ModelArgsError(f"{p}: not a genotype (expected a JSON object with 'arch' and its arguments)")
    return spec


def from_genotype(spec: str | Path | dict[str, Any], scale: int, **kwargs: Any) -> nn.Module:
    """Build the model a genotype (a file or its parsed dict) describes, at ``scale``."""
    d = read_genotype(spec) if not isinstance(spec, dict) else spec
    args = {k: v for k, v in d.items() if k != "arch" and not k.startswith("_")}
    return create_model(str(d.get("arch", "deconasnet")), scale=scale, **args, **kwargs)
