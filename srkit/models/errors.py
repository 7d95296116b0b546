"""What every checkpoint reader shares: the error a user sees, and the state-dict type."""

from __future__ import annotations

from collections.abc import Mapping

import torch

StateDict = Mapping[str, torch.Tensor]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, recognised or loaded; the message says which and why."""


class ModelArgsError(ValueError, TypeError, KeyError):
    """A model name, scale or hyper-parameter the zoo cannot build; the message names it. (A
    ValueError, TypeError and KeyError, as the checks it replaces raised.)"""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
