"""The one-shot supernet of a :class:`~srkit.search.space.BlockSpace` (SPOS: single path, uniform sampling).

Every layer position holds one module per candidate block and there is one tail per upsampler; the
head and body convs are shared. A forward runs one path: the blocks of an
:class:`~srkit.search.space.Arch`, layer ``i`` through its candidate at position ``i``, positions
past the arch's depth skipped, then the arch's upsampler.

The width is a one-shot choice too: a supernet of several widths holds every module at the widest,
and a path of width ``c`` runs each module with the leading slice of each of its weights (in every
dimension) that the module built at width ``c`` has, as slimmable and once-for-all networks do. A
path at width ``c`` is therefore exactly the stand-alone network of width ``c`` holding those slices.

Training samples a path uniformly per step (:func:`train`); :meth:`Supernet.subnet` copies a path's
weights into a stand-alone :class:`srkit.models.blocknet.BlockNet` that computes exactly what the
path does.
"""

from __future__ import annotations

import io
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from tqdm import tqdm

from srkit import atomic
from srkit.models.blocknet import BlockNet
from srkit.models.blocks import conv
from srkit.models.catalog import BlockSpec, build_block
from srkit.models.upsamplers import build_skip, build_upsampler, split_upsampler
from srkit.nn import apply_weight_norm
from srkit.train.data import PatchBatches
from srkit.train.distributed import World
from srkit.train.runfolder import load_state
from srkit.train.trainer import cosine

from .space import Arch, BlockSpace


def _leading(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The leading ``shape`` slice of ``t`` (a view)."""
    return t[tuple(slice(0, n) for n in shape)]


class Supernet(nn.Module):
    """The supernet of ``space`` at width ``channels``, or over all the space's widths (``None``)."""

    def __init__(self, space: BlockSpace, channels: int | None = None) -> None:
        super().__init__()
        if channels is not None and channels not in space.channels:
            raise ValueError(f"Supernet: width {channels} is not one of the space's {space.channels}")
        self.space, self.channels, self.scale = space, channels, space.scale
        self.widths = space.channels if channels is None else (channels,)
        self.width = width = max(self.widths)
        ch = space.in_channels  # 3, or 1 for a Y space
        self.head = conv(ch, width, 3)
        self.choices = self.build_choices(space, width)
        self.body_conv = conv(width, width, 3)
        self.tails = nn.ModuleDict({up: build_upsampler(up, width, ch, space.scale) for up in space.upsamplers})
        # the input branch has no width: one for every +skip path
        self.skip = build_skip(ch, space.scale) if any(split_upsampler(u)[1] for u in space.upsamplers) else None
        self._templates: dict[tuple[str, int], tuple[nn.Module, dict[str, torch.Size]]] = {}
        if space.weight_norm:  # a sliced path normalises its slice of each weight, as its stand-alone net does
            apply_weight_norm(self)
        mean = None if space.input_mean is None else torch.tensor(space.input_mean).view(1, -1, 1, 1)
        self.register_buffer("input_mean", mean, persistent=False)  # made as the stand-alone net's is

    def forward(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        self._check(arch)
        if self.input_mean is None:
            return self._path(x, arch)
        m, std = self.input_mean.to(x.dtype), self.space.input_std
        return self._path((x - m) / std, arch) * std + m  # as SRNet.subtract_mean does for the stand-alone net

    def _path(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        c = arch.channels
        f = self.sliced(self.head, "head", c, lambda: conv(self.space.in_channels, c, 3), x)
        y = f
        for i, spec in enumerate(arch.blocks):
            y = self.run_block(i, spec, y, c)
        y = self.sliced(self.body_conv, "body_conv", c, lambda: conv(c, c, 3), y) + f
        up = arch.upsampler
        out = self.sliced(
            self.tails[up], f"tail:{up}", c, lambda: build_upsampler(up, c, self.space.in_channels, self.scale), y
        )
        return out + self.skip(x) if split_upsampler(up)[1] and self.skip is not None else out

    def _check(self, arch: Arch) -> None:
        self.space.validate(arch)
        if arch.channels not in self.widths:
            raise ValueError(f"{arch.key()}: this supernet holds width(s) {list(self.widths)}, not {arch.channels}")

    def _template(self, name: str, c: int, build: Callable[[], nn.Module]) -> tuple[nn.Module, dict[str, torch.Size]]:
        """Module ``name`` built at width ``c`` on the meta device (shapes only, no memory), and its
        weights' shapes; made once per (name, width)."""
        key = (name, c)
        if key not in self._templates:
            with torch.device("meta"):
                m = build()
                if self.space.weight_norm:
                    apply_weight_norm(m)
            self._templates[key] = (m, {k: v.shape for k, v in [*m.named_parameters(), *m.named_buffers()]})
        return self._templates[key]

    def sliced(
        self, module: nn.Module, name: str, c: int, build: Callable[[], nn.Module], x: torch.Tensor
    ) -> torch.Tensor:
        """``module`` run as its width-``c`` self: the leading slice of every weight."""
        if c == self.width:
            return module(x)
        template, shapes = self._template(name, c, build)
        weights = {k: _leading(v, shapes[k]) for k, v in [*module.named_parameters(), *module.named_buffers()]}
        return functional_call(template, weights, (x,))

    def state_at(self, module: nn.Module, name: str, c: int, build: Callable[[], nn.Module]) -> dict[str, torch.Tensor]:
        """``module``'s state dict as its width-``c`` self holds it."""
        shapes = self._template(name, c, build)[1]
        return {k: _leading(v.detach(), shapes[k]) if k in shapes else v for k, v in module.state_dict().items()}

    def build_choices(self, space: BlockSpace, channels: int) -> nn.ModuleList:
        """Per position, the candidates' weights: here one module per candidate."""
        return nn.ModuleList(
            nn.ModuleList(build_block(s, channels) for s in space.candidates) for _ in range(space.max_blocks)
        )

    def run_block(self, i: int, spec: BlockSpec, y: torch.Tensor, c: int) -> torch.Tensor:
        """Position ``i`` through candidate ``spec`` at width ``c``."""
        j = self.space.index(spec)
        return self.sliced(self.choices[i][j], f"block:{j}", c, lambda: build_block(spec, c), y)

    def block_state(self, i: int, spec: BlockSpec, c: int) -> dict[str, torch.Tensor]:
        """The weights of candidate ``spec`` at position ``i`` and width ``c``, as its stand-alone block's state dict."""
        j = self.space.index(spec)
        return self.state_at(self.choices[i][j], f"block:{j}", c, lambda: build_block(spec, c))

    def subnet(self, arch: Arch) -> BlockNet:
        """A stand-alone BlockNet holding this path's weights (a copy: training it leaves the supernet alone)."""
        self._check(arch)
        c, up = arch.channels, arch.upsampler
        net = arch.build(self.scale)
        state = {
            f"head.{k}": v
            for k, v in self.state_at(self.head, "head", c, lambda: conv(self.space.in_channels, c, 3)).items()
        }
        state |= {
            f"body_conv.{k}": v for k, v in self.state_at(self.body_conv, "body_conv", c, lambda: conv(c, c, 3)).items()
        }
        tail = self.state_at(
            self.tails[up], f"tail:{up}", c, lambda: build_upsampler(up, c, self.space.in_channels, self.scale)
        )
        state |= {f"tail.{k}": v for k, v in tail.items()}
        if net.skip is not None and self.skip is not None:
            state |= {f"skip.{k}": v.detach() for k, v in self.skip.state_dict().items()}
        for i, spec in enumerate(arch.blocks):
            state |= {f"body.{i}.{k}": v.detach() for k, v in self.block_state(i, spec, c).items()}
        net.load_state_dict({k: v.clone().contiguous() for k, v in state.items()})
        net.arch, net.hparams = "blocknet", {"scale": self.scale, **arch.genotype()}  # as create_model records it
        del net.hparams["arch"]
        return net


RULES = ("uniform", "sandwich")


@dataclass
class SupernetConfig:
    iters: int = 2000
    patch: int = 96  # HR patch side
    batch: int = 16
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 100
    max_minutes: float | None = None
    # uniform: one path a step (SPOS); sandwich: the largest path on the HR target, then the smallest
    # and sandwich_random uniform ones distilled from its output, one optimiser step (BigNAS's rule)
    rule: str = "uniform"
    sandwich_random: int = 2

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"supernet rule {self.rule!r}: one of {', '.join(RULES)}")
        if self.sandwich_random < 0:
            raise ValueError(f"sandwich_random must be >= 0, got {self.sandwich_random}")


def path_for_step(space: BlockSpace, channels: int, seed: int, step: int) -> Arch:
    """The path trained at ``step``: a pure function of (seed, step), so a resumed run trains the same paths."""
    return space.sample(random.Random(seed * 1_000_003 + step), channels)


def extremes(space: BlockSpace, channels: int | None) -> tuple[Arch, Arch]:
    """The largest and the smallest member (of width ``channels``, or over the space's widths):
    widest, deepest, at every position the candidate with the most parameters and the upsampler
    with the most; and the other way round."""
    widths = space.channels if channels is None else (channels,)

    def params(m: nn.Module) -> int:
        return sum(p.numel() for p in m.parameters())

    def member(c: int, depth: int, pick: Callable[..., Any]) -> Arch:
        block = pick(space.candidates, key=lambda s: params(build_block(s, c)))
        up = pick(space.upsamplers, key=lambda u: params(build_upsampler(u, c, space.in_channels, space.scale)))
        return space.member(c, (block,) * depth, up)

    return member(max(widths), space.max_blocks, max), member(min(widths), space.min_blocks, min)


def _save(
    path: Path,
    net: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler,
    step: int,
    losses: list[float],
    cfg: SupernetConfig,
) -> None:
    buf = io.BytesIO()
    torch.save(
        {
            "step": step,
            "model": net.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "losses": losses,
            "config": asdict(cfg),
            "space": net.space.as_dict(),
            "channels": getattr(net, "channels", None),
            "kind": type(net).__name__,
        },
        buf,
    )
    atomic.write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    return load_state(path, "a supernet checkpoint", ("step", "model"))


def _resume(ckpt: Path, net: nn.Module, opt: Any, sched: Any, log: Callable[[str], None]) -> tuple[int, list[float]]:
    """(step, losses) of the checkpoint, whose state is loaded into the net, optimiser and schedule."""
    blob = load_checkpoint(ckpt)
    if blob["space"] != net.space.as_dict() or blob["channels"] != getattr(net, "channels", None):
        raise ValueError(f"{ckpt}: this supernet checkpoint is of another space or width; use another --out")
    if blob.get("kind", type(net).__name__) != type(net).__name__:
        raise ValueError(
            f"{ckpt}: this checkpoint holds a {blob['kind']}, not a {type(net).__name__} "
            "(--shared differs from the run being resumed); use the same options or another --out"
        )
    net.load_state_dict(blob["model"])
    opt.load_state_dict(blob["optimizer"])
    sched.load_state_dict(blob["scheduler"])
    log(f"supernet: resumed at step {blob['step']}")
    return int(blob["step"]), list(blob["losses"])


def train(
    net: nn.Module,
    pairs: list[tuple[str, torch.Tensor, torch.Tensor]],
    cfg: SupernetConfig,
    out: Path,
    *,
    device: str = "cpu",
    resume: bool = True,
    log: Callable[[str], None] = print,
    sampler: Callable[[int], Any] | None = None,
    progress: bool = True,
    world: World | None = None,
) -> list[float]:
    """Train a supernet (``net(x, path)``; ``net.space``, ``net.scale``) by uniform single-path
    sampling with an L1 loss: the path of step ``i`` is ``sampler(i)`` (default: a uniform
    :class:`BlockSpace` path of a pure function of (seed, i)). ``out/supernet.pt`` is written
    atomically every ``checkpoint_every`` steps and at the end, and a run with ``resume`` continues
    from it. Returns the per-step losses.

    Under ``torchrun`` (``world`` of several ranks) every rank trains the same path on its share of
    each batch and the gradients are averaged (:func:`_average`), so N ranks take the steps one process
    takes with the whole batch; rank 0 alone writes the checkpoint."""
    world = world or World()
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "supernet.pt"
    net.to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine(s, cfg.iters))
    step, losses = _resume(ckpt, net, opt, sched, log) if resume and ckpt.is_file() else (0, [])
    pending: list[torch.Tensor] = []  # read back at checkpoints, not per step (a device sync on a GPU)
    paths = _paths(net, cfg, sampler)
    channels = getattr(net.space, "in_channels", 3)  # a Y space trains on the patches' Y
    data = PatchBatches(pairs, net.space.scale, cfg.patch, cfg.batch, channels, cfg.seed, start=step, stop=cfg.iters,
                        rank=world.rank, world=world.size)  # fmt: skip
    t0 = time.monotonic()
    shown = progress and world.main
    bar = tqdm(total=cfg.iters, initial=step, unit="step", desc="supernet", disable=not shown, file=sys.stderr)
    for i, lr, hr in data:
        bar.update(1)
        pending.append(_step(net, opt, sched, lr.to(device), hr.to(device), paths(i), world))
        step = i + 1
        stop = world.any(cfg.max_minutes is not None and time.monotonic() - t0 > 60 * cfg.max_minutes)
        if step % cfg.checkpoint_every == 0 or step == cfg.iters or stop:
            losses += torch.stack(pending).tolist()
            pending.clear()
            if world.main:
                _save(ckpt, net, opt, sched, step, losses, cfg)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if stop:
            log(f"supernet: stopped after {cfg.max_minutes} minutes at step {step}")
            break
    bar.close()
    net.eval()
    return losses


def _paths(net: nn.Module, cfg: SupernetConfig, sampler: Callable[[int], Any] | None) -> Callable[[int], list[Any]]:
    """Step -> the paths it trains, the first on the HR target (:func:`_step`)."""
    if cfg.rule == "uniform":
        sample = sampler or (lambda i: path_for_step(net.space, net.channels, cfg.seed, i))
        return lambda i: [sample(i)]
    if sampler is not None or not isinstance(net.space, BlockSpace):
        raise ValueError("the sandwich rule trains a block space's supernet (srkit-search spos)")
    big, small = extremes(net.space, net.channels)  # once: they do not change

    def sandwich(i: int) -> list[Any]:  # a pure function of (seed, step), as path_for_step
        rng = random.Random(cfg.seed * 1_000_003 + i)
        return [big, small, *(net.space.sample(rng, net.channels) for _ in range(cfg.sandwich_random))]

    return sandwich


def _step(
    net: nn.Module, opt: Any, sched: Any, lr: torch.Tensor, hr: torch.Tensor, paths: list[Any], world: World
) -> torch.Tensor:
    """One optimiser step: the first path's L1 loss against ``hr``, and every other path's against
    the first one's output (in-place distillation), their gradients summed; the first loss,
    averaged over the ranks. One path: plain SPOS."""
    opt.zero_grad(set_to_none=True)
    teacher = net(lr, paths[0])
    loss = F.l1_loss(teacher, hr)
    loss.backward()  # each path's graph is freed before the next is built
    target = teacher.detach()
    for path in paths[1:]:
        F.l1_loss(net(lr, path), target).backward()
    loss = _average(net, loss.detach(), world)
    opt.step()
    sched.step()
    return loss


def _average(net: nn.Module, loss: torch.Tensor, world: World) -> torch.Tensor:
    """The ranks' gradients and loss averaged, in one all-reduce. Every rank ran the same path, so
    the same parameters hold gradients (the others' candidates none): no DDP bookkeeping of unused
    parameters is needed."""
    if world.size == 1:
        return loss
    import torch.distributed as dist

    grads = [p.grad for p in net.parameters() if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.reshape(1)])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()
    return flat[-1]
