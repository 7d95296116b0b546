"""Search space 3: SRGAN's hyper-architecture and its training recipe, searched through NNI.

Architecture: generator (SRResNet) blocks, discriminator blocks, one kernel size for both, generator
and discriminator widths, generator activation. Training: batch size, pre-training epochs (pixel loss
only, before the adversarial phase; an epoch is one random crop of every training image, as BasicSR
counts them), and a learning rate uniform in a range. A point of the space is NNI's parameter dict;
:meth:`SRGANSpace.train_config` turns it into the :class:`~srkit.train.TrainConfig` a trial runs.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from srkit import atomic
from srkit.train import DataConfig, OptimConfig, TrainConfig
from srkit.train.config import AdversarialConfig, PerceptualConfig

CHOICES = ("g_blocks", "d_blocks", "kernel", "g_width", "d_width", "g_act", "batch", "pretrain_epochs")


@dataclass(frozen=True)
class SRGANSpace:
    g_blocks: tuple[int, ...] = (8, 16)
    d_blocks: tuple[int, ...] = (3, 4)
    kernel: tuple[int, ...] = (3, 5)
    g_width: tuple[int, ...] = (64, 128)
    d_width: tuple[int, ...] = (64, 128)
    g_act: tuple[str, ...] = ("prelu", "relu")
    batch: tuple[int, ...] = (8, 16)
    pretrain_epochs: tuple[int, ...] = (0, 10, 50)
    lr: tuple[float, float] = (1e-4, 1e-3)

    def __post_init__(self) -> None:
        for name in CHOICES:
            if not getattr(self, name):
                raise ValueError(f"SRGAN space: {name} has no choices")
        bad = [a for a in self.g_act if a not in ("prelu", "relu", "lrelu", "gelu", "silu")]
        if bad:
            raise ValueError(f"SRGAN space: unknown generator activation(s) {bad}")
        lo, hi = self.lr
        if not 0 < lo <= hi:
            raise ValueError(f"SRGAN space: learning-rate range {self.lr} is not 0 < low <= high")

    def size(self) -> int:
        """Discrete points (each with a continuous learning rate)."""
        return math.prod(len(getattr(self, name)) for name in CHOICES)

    def nni(self) -> dict[str, Any]:
        """NNI's search-space JSON."""
        out: dict[str, Any] = {name: {"_type": "choice", "_value": list(getattr(self, name))} for name in CHOICES}
        out["lr"] = {"_type": "uniform", "_value": list(self.lr)}
        return out

    def sample(self, rng: random.Random) -> dict[str, Any]:
        p: dict[str, Any] = {name: rng.choice(getattr(self, name)) for name in CHOICES}
        p["lr"] = rng.uniform(*self.lr)
        return p

    def validate(self, p: dict[str, Any]) -> dict[str, Any]:
        for name in CHOICES:
            if p.get(name) not in getattr(self, name):
                raise ValueError(f"SRGAN parameters: {name}={p.get(name)!r} is not one of {list(getattr(self, name))}")
        lr = float(p.get("lr", math.nan))
        if not self.lr[0] <= lr <= self.lr[1]:
            raise ValueError(f"SRGAN parameters: lr={p.get('lr')!r} is outside {list(self.lr)}")
        return p

    def train_config(
        self,
        p: dict[str, Any],
        *,
        scale: int,
        data: str,
        iters: int,
        patch: int,
        device: str,
        train_images: int,
        vgg_weights: str | None = None,
    ) -> TrainConfig:
        """The trial's training: SRResNet and an SRGAN discriminator per ``p``; MSE pre-training for
        ``pretrain_epochs`` epochs, then MSE (+ VGG54 x 0.006 when ``vgg_weights`` is given) + 1e-3
        adversarial, for ``iters`` iterations in all."""
        p = self.validate(p)
        batch = int(p["batch"])
        per_epoch = math.ceil(train_images / batch)
        gen = {
            "blocks": int(p["g_blocks"]),
            "kernel_size": int(p["kernel"]),
            "channels": int(p["g_width"]),
            "act": str(p["g_act"]),
        }
        adv = AdversarialConfig(
            enabled=True,
            weight=1e-3,
            pretrain_iters=int(p["pretrain_epochs"]) * per_epoch,
            pretrain_loss="mse",
            d_blocks=int(p["d_blocks"]),
            d_channels=int(p["d_width"]),
            d_kernel=int(p["kernel"]),
            d_lr=float(p["lr"]),
        )
        return TrainConfig(
            model="srresnet",
            scale=scale,
            model_args=gen,
            iters=iters,
            val_every=max(1, iters // 4),
            device=device,
            ema=None,
            loss="mse+perceptual*0.006" if vgg_weights else "mse",
            data=DataConfig(data=data, patch=patch, batch=batch),
            optim=OptimConfig(lr=float(p["lr"])),
            perceptual=PerceptualConfig(weights=vgg_weights),
            adversarial=adv,
            tensorboard=False,
        )

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "srgan", **{k: list(v) for k, v in asdict(self).items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SRGANSpace:
        fields = {k: tuple(v) for k, v in d.items() if k != "kind"}
        try:
            return cls(**fields)  # type: ignore[arg-type]
        except TypeError as e:
            raise ValueError(f"not an SRGAN space: {e}") from None

    def save(self, path: str | Path) -> None:
        atomic.write_json(Path(path), self.as_dict())

    @classmethod
    def load(cls, path: str | Path) -> SRGANSpace:
        return cls.from_dict(json.loads(Path(path).read_text()))
