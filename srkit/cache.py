"""The one folder srkit keeps what it can make again: device peaks, downloaded weights, ONNX exports,
runtime choices. ``$SRKIT_CACHE_DIR``, else ``~/.cache/srkit``."""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    return Path(os.environ.get("SRKIT_CACHE_DIR") or Path.home() / ".cache" / "srkit")
