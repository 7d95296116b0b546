"""What every checkpoint reader shares: the error a user sees, and the state-dict type."""

from __future__ import annotations

from collections.abc import Mapping

import torch

StateDict = Mapping[str, torch.Tensor]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, recognised or loaded; the message says which and why."""
