"""Training recipes as data: per model, its paper's loss, optimiser, schedule and patch, scaled to
the run asked for; and ``quick``, a recipe for runs of minutes.

A recipe fills the configuration fields the user did not give (a YAML file's keys and ``--set``
overrides are given; so are ``--iters`` and friends). Schedules are written as fractions of the run
(EDSR halves its rate every 2e5 of 3e5 iterations, ie at two thirds), so a 5,000-iteration run
decays where the paper's would. ``auto`` takes the paper's recipe for a paper-sized run and
``quick`` below that, since the papers' rates (1e-4 for Adam, 1e-5 for SGD) barely move a network
in a few thousand steps. ``none`` leaves the configuration's defaults.

Sources are the papers' training sections; where a paper does not fix a value (ESPCN's optimiser,
a patch side) the recipe says so in its ``source`` and takes the common choice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

RECIPES_CHOICES = ("auto", "paper", "quick", "none")
PAPER_SIZED = 20_000  # iterations from which ``auto`` takes the paper's recipe
TIME_BOUNDED_ITERS = 10**9  # --max-minutes without --iters: the clock ends the run (and drives the schedule)


@dataclass(frozen=True)
class Recipe:
    source: str
    loss: str = "l1"
    optimizer: str = "adam"
    lr: float = 5e-4
    schedule: str = "step"  # cosine | step | multistep | none
    decay_every: float = 0.2  # step: the fraction of the run between decays
    milestones: tuple[float, ...] = ()  # multistep: fractions of the run
    gamma: float = 0.5
    momentum: float = 0.9
    weight_decay: float = 0.0
    clip_grad: float | None = None
    patch_lr: int = 48  # LR patch side; the HR patch is patch_lr x scale
    batch: int = 16
    warmup: float = 0.0  # fraction of the run
    ema: float | None = None

    def fields(self, scale: int, iters: int) -> dict[str, Any]:
        """The configuration fields (dotted names) this recipe sets for a run of ``iters`` at ``scale``."""
        return {
            "loss": self.loss,
            "ema": self.ema,
            "data.patch": self.patch_lr * scale,
            "data.batch": self.batch,
            "optim.name": self.optimizer,
            "optim.lr": self.lr,
            "optim.schedule": self.schedule,
            "optim.step_size": max(1, round(self.decay_every * iters)),
            "optim.milestones": [max(1, round(f * iters)) for f in self.milestones],
            "optim.gamma": self.gamma,
            "optim.momentum": self.momentum,
            "optim.weight_decay": self.weight_decay,
            "optim.clip_grad": self.clip_grad,
            "optim.warmup_iters": round(self.warmup * iters),
        }


_EDSR = Recipe(
    "EDSR (Lim et al. 2017): L1, Adam 1e-4 halved every 2e5 of 3e5 updates, batch 16, LR 48 patches",
    lr=1e-4,
    decay_every=2 / 3,
)
PAPER: dict[str, Recipe] = {
    "edsr": _EDSR,
    "edsr_baseline": _EDSR,
    "wdsr_a": Recipe(
        "WDSR (Yu et al. 2018): L1, Adam 1e-3 (weight norm allows it) halved every 2e5 iterations, "
        "batch 16, LR 96 patches",
        lr=1e-3,
        patch_lr=96,
    ),
    "carn": Recipe(
        "CARN (Ahn et al. 2018): L1, Adam 1e-4 halved every 4e5 of 6e5 steps, batch 64, LR 64 patches",
        lr=1e-4,
        decay_every=2 / 3,
        patch_lr=64,
        batch=64,
    ),
    "swinir_light": Recipe(
        "SwinIR (Liang et al. 2021), lightweight: L1, Adam 2e-4 halved at 250k/400k/450k/475k of 500k, "
        "batch 64, LR 64 patches",
        lr=2e-4,
        schedule="multistep",
        milestones=(0.5, 0.8, 0.9, 0.95),
        patch_lr=64,
        batch=64,
    ),
    "rdn": Recipe(
        "RDN (Zhang et al. 2018): L1, Adam 1e-4 halved every 200 of 1000 epochs, batch 16, LR 32 patches",
        lr=1e-4,
        patch_lr=32,
    ),
    "imdn": Recipe(
        "IMDN (Hui et al. 2019): L1, Adam 2e-4 halved every 2e5 of 1e6 iterations, batch 16 (patch: the common LR 48)",
        lr=2e-4,
    ),
    "rfdn": Recipe(
        "RFDN (Liu et al. 2020): L1, Adam 5e-4 halved every 2e5 iterations, batch 64, LR 64 patches",
        lr=5e-4,
        patch_lr=64,
        batch=64,
    ),
    "rlfn": Recipe(
        "RLFN (Kong et al. 2022), first stage: L1, Adam 5e-4 halved every 2e5 of 1e6 iterations, batch 64, "
        "LR 64 patches",
        lr=5e-4,
        patch_lr=64,
        batch=64,
    ),
    "srresnet": Recipe(
        "SRResNet (Ledig et al. 2017): MSE, Adam 1e-4 for 1e6 updates, batch 16, HR 96 patches",
        loss="mse",
        lr=1e-4,
        schedule="none",
        patch_lr=24,
    ),
    "vdsr": Recipe(
        "VDSR (Kim et al. 2016): MSE, SGD momentum 0.9, weight decay 1e-4, rate 0.1 divided by 10 every "
        "20 of 80 epochs, gradient clipping, batch 64, 41x41 patches",
        loss="mse",
        optimizer="sgd",
        lr=0.1,
        decay_every=0.25,
        gamma=0.1,
        weight_decay=1e-4,
        clip_grad=0.4,
        patch_lr=14,
        batch=64,
    ),
    "srcnn": Recipe(
        "SRCNN (Dong et al. 2014): MSE, SGD 1e-4 (1e-5 in the last layer: srkit uses one rate), 33x33 sub-images",
        loss="mse",
        optimizer="sgd",
        lr=1e-4,
        schedule="none",
        patch_lr=11,
        batch=128,
    ),
    "fsrcnn": Recipe(
        "FSRCNN (Dong et al. 2016): MSE, SGD 1e-3 (1e-4 in the deconvolution: srkit uses one rate)",
        loss="mse",
        optimizer="sgd",
        lr=1e-3,
        schedule="none",
        patch_lr=16,
        batch=128,
    ),
    "espcn": Recipe(
        "ESPCN (Shi et al. 2016): MSE, rate 1e-2 falling to 1e-4, LR 17x17 sub-images (optimiser not stated: Adam)",
        loss="mse",
        lr=1e-2,
        schedule="multistep",
        milestones=(0.5, 0.8),
        gamma=0.1,
        patch_lr=17,
        batch=64,
    ),
    "lapsrn": Recipe(
        "LapSRN (Lai et al. 2017): Charbonnier, SGD momentum 0.9, weight decay 1e-4, rate 1e-5 halved "
        "every 50 epochs, batch 64, HR 128 patches",
        loss="charbonnier",
        optimizer="sgd",
        lr=1e-5,
        weight_decay=1e-4,
        patch_lr=64,
        batch=64,
    ),
}
DEFAULT = Recipe(
    "srkit's default (no paper recipe recorded for this model): L1, Adam 5e-4 halved every fifth of "
    "the run, batch 16, LR 48 patches"
)
QUICK = Recipe(
    "srkit quick: for runs of minutes (the papers' rates need 1e5+ steps): the model's loss, Adam 2e-3 "
    "with a short warm-up and a cosine decay to the end of the run (or of --max-minutes), batch 16, "
    "LR 32 patches",
    lr=2e-3,
    schedule="cosine",
    warmup=0.02,
    patch_lr=32,
)


def paper(model: str) -> Recipe:
    return PAPER.get(model, DEFAULT)


def choose(name: str, model: str, iters: int, max_minutes: float | None) -> tuple[str, Recipe | None]:
    """(the recipe's name, the recipe) for ``recipe: name``; ``auto`` by the run's size."""
    if name == "none":
        return "none", None
    if name == "auto":
        small = iters < PAPER_SIZED or (max_minutes is not None and max_minutes < 60)
        name = "quick" if small else "paper"
    if name == "quick":
        return "quick", dataclasses.replace(QUICK, loss=paper(model).loss)
    return "paper", paper(model)
