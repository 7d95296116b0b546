"""Pixel losses for SR training. ``make_loss('l1+tv*0.01')`` combines terms."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def charbonnier(sr: torch.Tensor, hr: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((sr - hr) ** 2 + eps * eps).mean()


def total_variation(sr: torch.Tensor, hr: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels (a smoothness prior; ``hr`` unused)."""
    return (sr[..., 1:, :] - sr[..., :-1, :]).abs().mean() + (sr[..., :, 1:] - sr[..., :, :-1]).abs().mean()


TERMS: dict[str, Loss] = {"l1": F.l1_loss, "mse": F.mse_loss, "charbonnier": charbonnier, "tv": total_variation}


def make_loss(spec: str) -> Loss:
    """'l1', 'charbonnier', 'l1+tv*0.01', ...: a sum of weighted terms."""
    terms: list[tuple[Loss, float]] = []
    for part in spec.replace(" ", "").split("+"):
        name, _, weight = part.partition("*")
        if name not in TERMS:
            raise ValueError(f"loss {spec!r}: unknown term {name!r} (known: {', '.join(TERMS)})")
        terms.append((TERMS[name], float(weight) if weight else 1.0))

    def loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return sum(w * f(sr, hr) for f, w in terms)  # type: ignore[return-value]

    return loss
