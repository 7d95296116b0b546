"""A REINFORCE controller for DeCoNAS's dense-connection space, rewarded with validation PSNR minus a
complexity penalty (parameters, FLOPs or measured latency).

The policy is one Bernoulli per possible connection (block b, layer i reads node j < i); a layer
whose draw reads nothing reads the previous node (a fixed mapping of the draw, so the gradient of
the draw's log-probability stays an unbiased estimate). The reward of a genotype is its PSNR with
the weights of a trained :class:`~srkit.search.dense.DenseSupernet`, less ``penalty_db`` times its
complexity relative to the fully dense genotype's; the advantage is the reward less a moving
average. The run (``srkit-search reinforce``) trains the supernet by uniform sampling, then the
controller; every controller step is logged, the controller is checkpointed atomically each step,
and a killed run resumes.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from srkit import atomic
from srkit.devices import default_device
from srkit.models.deconasnet import DeCoNASNet, Genotype, dense_genotype
from srkit.train import runfolder
from srkit.train.data import load_pairs
from srkit.train.runfolder import load_state
from srkit.train.trainer import validate

from .dense import DenseSpace, DenseSupernet, key
from .latency import time_model
from .runlog import RunLog
from .supernet import SupernetConfig
from .supernet import train as train_supernet


class Controller(nn.Module):
    def __init__(self, space: DenseSpace) -> None:
        super().__init__()
        self.space = space
        n = space.layers
        self.logits = nn.Parameter(torch.zeros(space.blocks, n, n))
        self.register_buffer("mask", torch.tril(torch.ones(n, n)), persistent=False)  # layer i reads nodes 0..i

    def _genotype(self, bits: torch.Tensor) -> Genotype:
        g: Genotype = []
        for b in range(self.space.blocks):
            block = []
            for i in range(self.space.layers):
                ins = [j for j in range(i + 1) if bits[b, i, j] > 0.5]
                block.append(ins or [i])
            g.append(block)
        return g

    def sample(self, gen: torch.Generator) -> tuple[Genotype, torch.Tensor, torch.Tensor]:
        """(genotype, log-probability of the draw, entropy of the policy)."""
        p = torch.sigmoid(self.logits.detach())
        bits = (torch.rand(p.shape, generator=gen) < p).float() * self.mask
        logp = (self.mask * (bits * F.logsigmoid(self.logits) + (1 - bits) * F.logsigmoid(-self.logits))).sum()
        q = torch.sigmoid(self.logits)
        ent = -(self.mask * (q * F.logsigmoid(self.logits) + (1 - q) * F.logsigmoid(-self.logits))).sum()
        return self._genotype(bits), logp, ent

    def most_likely(self) -> Genotype:
        return self._genotype((self.logits.detach() > 0).float() * self.mask)

    def probabilities(self) -> list[list[list[float]]]:
        p = torch.sigmoid(self.logits.detach()) * self.mask
        return [
            [[round(float(p[b, i, j]), 4) for j in range(i + 1)] for i in range(self.space.layers)]
            for b in range(self.space.blocks)
        ]


@dataclass
class ReinforceConfig:
    steps: int = 200
    lr: float = 0.05
    baseline_decay: float = 0.9
    entropy_weight: float = 1e-3
    penalty_db: float = 0.5  # dB per fully-dense-network's worth of complexity
    complexity: str = "params"  # params | flops | latency
    seed: int = 0


def reinforce(
    controller: Controller,
    reward: Callable[[Genotype], dict[str, float]],
    cfg: ReinforceConfig,
    *,
    state_path: Path | None = None,
    runlog: RunLog | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Policy-gradient steps; ``reward(g)`` returns at least ``{"reward": ...}``. With ``state_path``
    the controller, its optimiser, baseline and step are saved each step and a run resumes from them."""
    opt = torch.optim.Adam(controller.parameters(), lr=cfg.lr)
    baseline: float | None = None
    start = 0
    if state_path is not None and state_path.is_file():
        blob = load_state(state_path, "a controller state", ("controller", "optimizer", "baseline", "step"))
        controller.load_state_dict(blob["controller"])
        opt.load_state_dict(blob["optimizer"])
        baseline, start = blob["baseline"], int(blob["step"])
    history: list[dict[str, Any]] = list(runlog.of_kind("controller")) if runlog else []
    for step in range(start, cfg.steps):
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        g, logp, ent = controller.sample(gen)
        r = reward(g)
        adv = 0.0 if baseline is None else r["reward"] - baseline
        baseline = (
            r["reward"] if baseline is None else cfg.baseline_decay * baseline + (1 - cfg.baseline_decay) * r["reward"]
        )
        loss = -adv * logp - cfg.entropy_weight * ent
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec = {
            "kind": "controller",
            "key": f"step{step}",
            "step": step,
            "genotype": g,
            "genotype_key": key(g),
            **r,
            "baseline": baseline,
        }
        history.append(runlog.append(rec) if runlog else rec)
        if state_path is not None:
            buf = io.BytesIO()
            torch.save(
                {
                    "controller": controller.state_dict(),
                    "optimizer": opt.state_dict(),
                    "baseline": baseline,
                    "step": step + 1,
                },
                buf,
            )
            atomic.write_bytes(state_path, buf.getvalue())
        if progress:
            progress(f"step {step}: reward {r['reward']:.3f} (baseline {baseline:.3f})")
    return history


@dataclass
class DenseSearchConfig:
    space: DenseSpace = field(default_factory=DenseSpace)
    data: str = "skimage"
    # the dense supernet's steps: it has more paths per block than the block space's
    supernet: SupernetConfig = field(default_factory=lambda: SupernetConfig(iters=5000))
    controller: ReinforceConfig = field(default_factory=ReinforceConfig)
    latency_input: tuple[int, int] = (270, 480)
    val_crop: int | None = None  # score the controller's genotypes on LR centre crops of this side (None: whole images)
    device: str = field(default_factory=default_device)


def centre_crop(
    pair: tuple[str, torch.Tensor, torch.Tensor], side: int | None, scale: int
) -> tuple[str, torch.Tensor, torch.Tensor]:
    name, hr, lr = pair
    if side is None or min(lr.shape[1:]) <= side:
        return pair
    y, x = (lr.shape[1] - side) // 2, (lr.shape[2] - side) // 2
    return (
        name,
        hr[:, y * scale : (y + side) * scale, x * scale : (x + side) * scale],
        lr[:, y : y + side, x : x + side],
    )


def quick_dense(device: str = "cpu") -> DenseSearchConfig:
    return DenseSearchConfig(
        space=DenseSpace(scale=4, blocks=2, layers=4, channels=16),
        device=device,
        latency_input=(64, 64),
        supernet=SupernetConfig(iters=600, patch=64, batch=8, lr=2e-3, checkpoint_every=200),
        controller=ReinforceConfig(steps=60, lr=0.1),
        val_crop=48,
    )


def complexity(space: DenseSpace, g: Genotype, kind: str, lr_hw: tuple[int, int], device: str) -> float:
    net = DeCoNASNet(space.scale, g, space.channels)
    params = sum(p.numel() for p in net.parameters())
    if kind == "params":
        return float(params)
    if kind == "flops":  # every conv runs at the LR size: two FLOPs per weight per pixel
        return 2.0 * params * lr_hw[0] * lr_hw[1]
    if kind == "latency":
        return time_model(net, lr_hw, device)
    raise ValueError(f"complexity {kind!r}: choose params, flops or latency")


def run(cfg: DenseSearchConfig, out: str | Path, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record = json.loads(json.dumps({**asdict(cfg), "space": cfg.space.as_dict()}))
    recorded = runfolder.read_config(out)
    if recorded is not None and recorded != record:
        raise ValueError(
            f"{out}: this run folder holds a search with another configuration ({out / runfolder.CONFIG}); "
            "resume it with the same options or choose another --out"
        )
    runfolder.write_config(out, record)
    space = cfg.space
    log(
        f"dense space: {space.size():,} genotypes ({space.blocks} blocks of {space.layers} layers, {space.channels} channels)"
    )
    train_pairs = load_pairs(cfg.data, space.scale, "train")
    val_pairs = [centre_crop(p, cfg.val_crop, space.scale) for p in load_pairs(cfg.data, space.scale, "valid")]
    torch.manual_seed(cfg.supernet.seed)
    net = DenseSupernet(space)
    train_supernet(
        net,
        train_pairs,
        cfg.supernet,
        out,
        device=cfg.device,
        log=log,
        sampler=lambda i: space.sample(random.Random(cfg.supernet.seed * 1_000_003 + i)),
    )
    net.eval()
    ref = complexity(
        space, dense_genotype(space.blocks, space.layers), cfg.controller.complexity, cfg.latency_input, cfg.device
    )
    runlog = RunLog(out / "log.jsonl")

    def reward(g: Genotype) -> dict[str, float]:
        with torch.no_grad():
            psnr = validate(net.subnet(g), val_pairs, space.scale, cfg.device)[0]
        c = complexity(space, g, cfg.controller.complexity, cfg.latency_input, cfg.device)
        return {"psnr": psnr, "complexity": c, "reward": psnr - cfg.controller.penalty_db * c / ref}

    ctrl = Controller(space)
    reinforce(ctrl, reward, cfg.controller, state_path=out / "controller.pt", runlog=runlog, progress=log)
    best = ctrl.most_likely()
    geno = {
        "arch": "deconasnet",
        "genotype": best,
        "channels": space.channels,
        "_search": {"controller_probabilities": ctrl.probabilities(), **reward(best)},
    }
    atomic.write_json(out / "genotypes" / f"x{space.scale}_reinforce.json", geno)
    log(f"most likely genotype {key(best)}: {geno['_search']}")
    return geno
