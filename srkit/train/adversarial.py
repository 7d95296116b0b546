"""SRGAN-style adversarial training: the discriminator, its optimiser, and both sides' losses.

The generator's adversarial term is ``BCE(D(sr), real)`` with the discriminator frozen (and called
outside DDP, so no gradient of D is synchronised for it); the discriminator then steps on
``BCE(D(hr), real) + BCE(D(sr.detach()), fake)``. Its learning rate follows the generator's schedule.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..models import SRGANDiscriminator
from .config import AdversarialConfig


class Adversary:
    def __init__(
        self, cfg: AdversarialConfig, channels: int, device: str, amp: str, wrap: Callable[[nn.Module], nn.Module]
    ) -> None:
        self.cfg = cfg
        self.net = SRGANDiscriminator(cfg.d_blocks, cfg.d_kernel, cfg.d_channels, cfg.d_act, in_channels=channels).to(
            device
        )
        self.net.train()
        self.ddp = wrap(self.net)  # DDP under torchrun, the module itself otherwise
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.d_lr, betas=(0.9, 0.999))
        self.scaler = torch.amp.GradScaler(device.split(":")[0], enabled=amp == "fp16")

    def active(self, it: int) -> bool:
        """Adversarial from iteration ``pretrain_iters`` on; pixel-loss pre-training before."""
        return it >= self.cfg.pretrain_iters

    def generator_term(self, sr: torch.Tensor) -> torch.Tensor:
        self.net.requires_grad_(False)
        try:
            logits = self.net(sr)
        finally:
            self.net.requires_grad_(True)
        return F.binary_cross_entropy_with_logits(logits.float(), torch.ones_like(logits, dtype=torch.float32))

    def step(
        self, sr: torch.Tensor, hr: torch.Tensor, lr_factor: float, autocast: Callable[[], AbstractContextManager[Any]]
    ) -> torch.Tensor:
        """One discriminator update on a real and a fake batch; returns its loss (on the device)."""
        for group in self.opt.param_groups:
            group["lr"] = self.cfg.d_lr * lr_factor
        self.opt.zero_grad(set_to_none=True)
        parts = []
        # real and fake in separate forwards (batch norm sees one kind at a time); under DDP the
        # gradients are reduced once, after both backwards
        sync_later = getattr(self.ddp, "no_sync", contextlib.nullcontext)
        for batch, real, ctx in ((hr, True, sync_later), (sr.detach(), False, contextlib.nullcontext)):
            with ctx():
                with autocast():
                    logits = self.ddp(batch).float()
                loss = F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))
                self.scaler.scale(loss).backward()
            parts.append(loss.detach())
        self.scaler.step(self.opt)
        self.scaler.update()
        return parts[0] + parts[1]

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "opt": self.opt.state_dict(), "scaler": self.scaler.state_dict()}

    def load_state_dict(self, blob: dict[str, Any]) -> None:
        self.net.load_state_dict(blob["net"])
        self.opt.load_state_dict(blob["opt"])
        self.scaler.load_state_dict(blob["scaler"])
