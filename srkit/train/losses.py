"""Losses for SR training. ``make_loss('l1+tv*0.01')`` combines weighted terms; terms that need a
module (``perceptual``: VGG features, :mod:`.perceptual`) are built by the caller's factory, only
when the spec names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def charbonnier(sr: torch.Tensor, hr: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((sr - hr) ** 2 + eps * eps).mean()


def total_variation(sr: torch.Tensor, hr: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels (a smoothness prior; ``hr`` unused)."""
    return (sr[..., 1:, :] - sr[..., :-1, :]).abs().mean() + (sr[..., :, 1:] - sr[..., :, :-1]).abs().mean()


TERMS: dict[str, Loss] = {"l1": F.l1_loss, "mse": F.mse_loss, "charbonnier": charbonnier, "tv": total_variation}
MODULE_TERMS = ("perceptual",)


def parse_loss(spec: str) -> list[tuple[str, float]]:
    """'mse+perceptual*0.006' -> [('mse', 1.0), ('perceptual', 0.006)]; unknown terms are an error."""
    out = []
    for part in spec.replace(" ", "").split("+"):
        name, _, weight = part.partition("*")
        if name not in TERMS and name not in MODULE_TERMS:
            raise ValueError(f"loss {spec!r}: unknown term {name!r} (known: {', '.join([*TERMS, *MODULE_TERMS])})")
        try:
            out.append((name, float(weight) if weight else 1.0))
        except ValueError:
            raise ValueError(f"loss {spec!r}: weight {weight!r} of {name!r} is not a number") from None
    return out


def make_loss(spec: str, factories: Mapping[str, Callable[[], Loss]] | None = None) -> Loss:
    """'l1', 'charbonnier', 'l1+tv*0.01', 'mse+perceptual*0.006', ...: a sum of weighted terms.
    ``factories`` build the module terms (e.g. ``{'perceptual': lambda: PerceptualLoss(...)}``)."""
    terms: list[tuple[Loss, float]] = []
    for name, weight in parse_loss(spec):
        if name in MODULE_TERMS:
            if not factories or name not in factories:
                raise ValueError(f"loss {spec!r}: the {name!r} term needs its module (no factory given)")
            terms.append((factories[name](), weight))
        else:
            terms.append((TERMS[name], weight))

    def loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return sum(w * f(sr, hr) for f, w in terms)  # type: ignore[return-value]

    return loss
