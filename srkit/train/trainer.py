"""The training loop: optimiser, schedule with warm-up, gradient clipping, AMP, EMA, optional
perceptual and adversarial (SRGAN) terms, data-parallel under torchrun, validation with the
standard protocol, TensorBoard, and atomic checkpoints that resume a killed run exactly (on the CPU)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from .. import atomic
from ..data.degrade import bicubic_sr
from ..evaluate import UpscaleFn, score, summary
from ..inference import NonFiniteOutput, Upscaler
from ..models import create_model, from_genotype
from ..models import save as save_model
from ..models.detect import CheckpointError
from ..models.registry import set_input_mean
from . import distributed, runfolder, stopping
from .adversarial import Adversary
from .config import ConfigError, TrainConfig, keep_recorded_schedule, resume_changes
from .data import PatchBatches, holdout_split, load_pairs, rgb_mean
from .losses import make_loss
from .perceptual import PerceptualLoss
from .recipes import TIME_BOUNDED_ITERS

Pairs = list[tuple[str, torch.Tensor, torch.Tensor]]
Validated = Callable[[int, float, bool], None]  # (iteration, validation PSNR, final)


def build_model(cfg: TrainConfig) -> nn.Module:
    """A zoo model, or the model a genotype JSON file describes (:func:`srkit.models.from_genotype`)."""
    if cfg.model.endswith(".json"):
        return from_genotype(cfg.model, cfg.scale, **cfg.model_args)
    return create_model(cfg.model, scale=cfg.scale, **cfg.model_args)


def cosine(step: int, total: int) -> float:
    """The cosine decay from 1 to 0 over ``total`` steps (and 0 after)."""
    return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))


def lr_factor(cfg: TrainConfig, it: int) -> float:
    o = cfg.optim
    warm = min(1.0, (it + 1) / o.warmup_iters) if o.warmup_iters else 1.0
    if o.schedule == "cosine":
        f = cosine(it, cfg.iters)
    elif o.schedule == "step":
        f = o.gamma ** (it // o.step_size)
    elif o.schedule == "multistep":
        f = o.gamma ** sum(it >= m for m in o.milestones)
    else:
        f = 1.0
    return warm * f


def schedule_point(cfg: TrainConfig, it: int, elapsed_s: float) -> int:
    """The iteration the schedule stands at: ``it``, or, with ``max_minutes``, as far along as the
    clock is (the schedule follows the time budget, so a run the clock ends still decays fully)."""
    if not cfg.max_minutes:
        return it
    return max(it, int(cfg.iters * min(1.0, elapsed_s / (cfg.max_minutes * 60))))


def make_optimizer(cfg: TrainConfig, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    o = cfg.optim
    if o.name == "adam":
        return torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
    if o.name == "adamw":
        return torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


@dataclass
class State:
    model: nn.Module
    ema: nn.Module | None
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    it: int = 0
    best_psnr: float = -math.inf


def save_checkpoint(
    path: Path, st: State, cfg: TrainConfig, losses: list[float], extra: dict[str, Any] | None = None
) -> None:
    blob = {
        **(extra or {}),
        "iteration": st.it,
        "model": st.model.state_dict(),
        "ema": st.ema.state_dict() if st.ema else None,
        "optimizer": st.opt.state_dict(),
        "scheduler": st.sched.state_dict(),
        "scaler": st.scaler.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "best_psnr": st.best_psnr,
        "losses": losses,
        "config": cfg.to_dict(),
    }
    buf = io.BytesIO()
    torch.save(blob, buf)
    atomic.write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    return runfolder.load_state(path, "an srkit training checkpoint", ("iteration", "model"))


def mean_scores(upscale: UpscaleFn, pairs: Pairs, scale: int) -> tuple[float, float]:
    res = summary(score(upscale, pairs, scale))
    return float(res["mean_psnr"]), float(res["mean_ssim"])  # type: ignore[arg-type]


def validate(model: nn.Module, pairs: Pairs, scale: int, device: str) -> tuple[float, float]:
    """Validation scores of ``model`` in eval mode (the Upscaler runs it in place: same device, float32),
    then the model is put back in the mode it was in. A diverged model (NaN or infinite output) scores
    (-inf, 0): the worst, never a black image's finite PSNR."""
    was_training = model.training
    up = Upscaler(model, device=device)
    try:
        return mean_scores(lambda lr, s: up(lr), pairs, scale)
    except NonFiniteOutput:
        return -math.inf, 0.0
    finally:
        model.train(was_training)


def train(
    cfg: TrainConfig,
    out: str | Path,
    *,
    resume: bool = False,
    log: Any = print,
    progress: bool = True,
    on_validate: Validated | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train per ``cfg`` into ``out`` (config.yaml, latest.pt, best.pt, log.jsonl, metrics.json,
    model.safetensors, tensorboard/).

    ``progress``: show a progress bar. ``on_validate(iteration, psnr, final)`` is called on rank 0
    after each validation and once at the end (an NNI trial reports through it, so training
    knows nothing of the engine that drives it). Under ``torchrun`` the run is data
    parallel (:mod:`.distributed`); rank 0 validates, logs and saves, and returns the metrics (the
    other ranks return ``{"rank": r}``). The folder is held for this run alone
    (:mod:`.runfolder`): one that already holds a run is refused unless ``resume`` continues it or
    ``overwrite`` replaces it."""
    world = distributed.setup(cfg.device)
    try:
        held = (
            runfolder.claim(Path(out), resume=resume, overwrite=overwrite) if world.main else contextlib.nullcontext()
        )
        with held:
            return _train(
                cfg,
                Path(out),
                world,
                resume=resume,
                log=log if world.main else (lambda *_: None),
                progress=progress and world.main,
                on_validate=on_validate,
            )
    finally:
        distributed.teardown(world)


def _train(
    cfg: TrainConfig,
    out: Path,
    world: distributed.World,
    *,
    resume: bool,
    log: Any,
    progress: bool,
    on_validate: Validated | None,
) -> dict[str, Any]:
    if resume:
        cfg = keep_recorded_schedule(runfolder.read_config(out), cfg)
    run = _Run(cfg, out, world, log)
    run.restore(resume)
    if on_validate is not None:
        run.on_validate = on_validate
    return run.loop(progress)


class _Run:
    """One training run's parts, each readable alone: setup (here), :meth:`restore` from a checkpoint,
    :meth:`step`, :meth:`checkpoint` (validation, log line, checkpoints), :meth:`loop` and :meth:`finish`.

    The order of construction is the order random numbers are drawn (the model's init, then the
    discriminator's), which exact resume and the DDP equivalence tests rely on.
    """

    def __init__(self, cfg: TrainConfig, out: Path, world: distributed.World, log: Any) -> None:
        self.cfg, self.out, self.world, self.log, self.device = cfg, out, world, log, world.device
        self.on_validate: Validated = lambda it, psnr, final: None
        out.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()  # the run's clock (a resumed run continues its predecessor's)
        pairs = load_pairs(cfg.data.data, cfg.scale, "train")
        try:
            self.train_pairs, held = holdout_split(pairs, cfg.data.holdout)
        except ValueError as e:  # too few images for the holdout: the config's field, named
            raise ConfigError(f"data.{e}") from None
        # validation: the folder given, else the held-out images, else the data's own validation split
        given = cfg.data.val_data
        self.val_pairs = held if held and not given else load_pairs(given or cfg.data.data, cfg.scale, "valid")
        torch.manual_seed(cfg.seed)
        model = build_model(cfg)
        self.channels = int(getattr(model, "in_channels", 3))
        mean = rgb_mean(cfg.data.rgb_mean, self.train_pairs, self.channels)
        if mean is not None:
            set_input_mean(model, mean)
        model = model.to(self.device).train()
        ema = copy.deepcopy(model).eval().requires_grad_(False) if cfg.ema else None
        opt = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: lr_factor(cfg, self.point(it)))
        scaler = torch.amp.GradScaler(self.device.split(":")[0], enabled=cfg.amp == "fp16")
        wrap = _ddp_wrapper(world)
        self.net = wrap(model)  # what the steps call: DDP under torchrun
        self.gan = (
            Adversary(cfg.adversarial, self.channels, self.device, cfg.amp, wrap) if cfg.adversarial.enabled else None
        )
        self.st = State(model, ema, opt, sched, scaler)
        self.losses: list[float] = []
        self.d_losses: list[float] = []
        self.pending: list[tuple[int, torch.Tensor, torch.Tensor | None]] = []  # read back at validation only
        self.ema_pairs, self.ema_counters = _ema_pairs(ema, model)
        self.loss_fn, self.pre_fn = self._losses()
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.board: Any = None
        self.saved_at = -1  # the iteration latest.pt was last written at by this process

    def point(self, it: int) -> int:
        return schedule_point(self.cfg, it, time.monotonic() - self.started)

    def _losses(self) -> tuple[Any, Any]:
        c = self.cfg
        factories = {
            "perceptual": lambda: PerceptualLoss(c.perceptual.weights, c.perceptual.layer, c.perceptual.criterion).to(
                self.device
            )
        }
        loss_fn = make_loss(c.loss, factories)
        return loss_fn, make_loss(c.adversarial.pretrain_loss, factories) if self.gan is not None else loss_fn

    def autocast(self) -> Any:
        dt = self.amp_dtype
        return torch.autocast(self.device.split(":")[0], dtype=dt or torch.float32, enabled=dt is not None)

    def restore(self, resume: bool) -> None:
        """Continue from ``latest.pt`` when resuming (applying the changes a resume may make), cut
        the log back to it, and write the configuration that runs."""
        cfg, st, latest = self.cfg, self.st, self.out / "latest.pt"
        blob = load_checkpoint(latest) if resume and latest.exists() else None
        if resume and blob is None:
            held = [n for n in ("log.jsonl", "metrics.json", "model.safetensors", "best.pt") if (self.out / n).exists()]
            if held:  # a run whose checkpoint is gone: starting again would replace its results
                raise runfolder.RunFolderError(
                    f"{self.out}: --resume found no latest.pt to continue from, but the folder holds a run "
                    f"({', '.join(held)}); nothing was changed (--overwrite starts it again)"
                )
            self.log(f"no checkpoint in {self.out}: starting from scratch")
        if blob is not None:
            self._load(blob, latest)
            changed = resume_changes(blob.get("config"), cfg)
            if "optim.lr" in changed:  # the new base rate, at the schedule's current point
                st.sched.base_lrs = [cfg.optim.lr] * len(st.sched.base_lrs)
                for g in st.opt.param_groups:
                    g["initial_lr"], g["lr"] = (
                        cfg.optim.lr,
                        cfg.optim.lr * lr_factor(cfg, self.point(st.sched.last_epoch)),
                    )
            self.log(
                f"resumed at iteration {st.it}" + (f", applying the changed {', '.join(changed)}" if changed else "")
            )
        if self.world.main:
            if resume:  # the log says no more than the checkpoint it resumes from
                runfolder.reconcile_log(self.out / "log.jsonl", st.it)
            runfolder.write_config(self.out, cfg.to_dict())

    def _load(self, blob: dict[str, Any], latest: Path) -> None:
        st = self.st
        st.model.load_state_dict(blob["model"])
        if st.ema is not None and blob["ema"] is not None:
            st.ema.load_state_dict(blob["ema"])
        st.opt.load_state_dict(blob["optimizer"])
        st.sched.load_state_dict(blob["scheduler"])
        st.scaler.load_state_dict(blob["scaler"])
        if self.gan is not None:
            if blob.get("adversary") is None:
                raise CheckpointError(f"{latest}: holds no discriminator, but adversarial training is enabled")
            self.gan.load_state_dict(blob["adversary"])
            self.d_losses = list(blob.get("d_losses", []))
        torch.set_rng_state(blob["rng_cpu"])
        st.it, st.best_psnr, self.losses = int(blob["iteration"]), float(blob["best_psnr"]), list(blob["losses"])
        self.started = time.monotonic() - float(blob.get("elapsed_s", 0.0))

    def step(self, it: int, lr: torch.Tensor, hr: torch.Tensor) -> None:
        """One optimiser step (generator, then discriminator in adversarial training), the schedule and the EMA."""
        cfg, st, gan = self.cfg, self.st, self.gan
        lr, hr = lr.to(self.device, non_blocking=True), hr.to(self.device, non_blocking=True)
        adversarial = gan is not None and gan.active(it)
        with self.autocast():
            sr = self.net(lr).float()
            loss = (self.loss_fn if gan is None or adversarial else self.pre_fn)(sr, hr)
            if adversarial:
                loss = loss + cfg.adversarial.weight * gan.generator_term(sr)  # type: ignore[union-attr]
        st.opt.zero_grad(set_to_none=True)
        st.scaler.scale(loss).backward()
        if cfg.optim.clip_grad:
            st.scaler.unscale_(st.opt)
            torch.nn.utils.clip_grad_norm_(st.model.parameters(), cfg.optim.clip_grad)
        st.scaler.step(st.opt)
        st.scaler.update()
        d_loss = gan.step(sr, hr, lr_factor(cfg, self.point(it)), self.autocast) if adversarial else None  # type: ignore[union-attr]
        st.sched.step()
        self._ema_update(it)
        st.it = it + 1
        self.pending.append((it, loss.detach(), d_loss))

    def _ema_update(self, it: int) -> None:
        if not self.ema_pairs:
            return
        d = min(self.cfg.ema, (1 + it) / (10 + it))  # type: ignore[type-var]  # warmed up: short runs are not all init
        with torch.no_grad():
            torch._foreach_lerp_([e for e, _ in self.ema_pairs], [m for _, m in self.ema_pairs], 1.0 - d)
            for e, m in self.ema_counters:
                e.copy_(m)

    def flush(self) -> None:
        """Read the pending losses back (once per validation, not every step) into the lists and the board."""
        if not self.pending:
            return
        g = torch.stack([p[1] for p in self.pending]).tolist()
        self.losses.extend(g)
        d = [(p[0], p[2]) for p in self.pending if p[2] is not None]
        dv = torch.stack([v for _, v in d]).tolist() if d else []
        self.d_losses.extend(dv)
        if self.board is not None:
            for (i, _, _), v in zip(self.pending, g, strict=True):
                self.board.add_scalar("train/loss", v, i + 1)
            for (i, _), v in zip(d, dv, strict=True):
                self.board.add_scalar("train/d_loss", v, i + 1)
        self.pending.clear()

    def checkpoint(self) -> None:
        """Validate, append the log line, then write best.pt (if improved) and latest.pt: a crash
        between the two leaves a line the resumed run's log reconciliation drops."""
        st = self.st
        psnr, ssim = validate(st.ema or st.model, self.val_pairs, self.cfg.scale, self.device)
        elapsed = time.monotonic() - self.started
        record = {
            "iteration": st.it,
            "loss": self.losses[-1],
            "val_psnr": psnr,
            "val_ssim": ssim,
            "lr": st.opt.param_groups[0]["lr"],
            "seconds": elapsed,
        }
        if self.d_losses:
            record["d_loss"] = self.d_losses[-1]
        with (self.out / "log.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
        if self.board is not None:
            for k in ("val_psnr", "val_ssim", "lr"):
                self.board.add_scalar(k.replace("val_", "val/") if k != "lr" else "train/lr", record[k], st.it)
            self.board.flush()
        self.on_validate(st.it, psnr, False)
        extra = self._extra(elapsed)
        if st.it in self.cfg.snapshots and hasattr(st.model, "arch"):  # a learning curve's point, kept
            save_model(
                st.ema or st.model, snapshot_path(self.out, st.it), extra={"val_psnr": psnr, "iterations": st.it}
            )
        if psnr > st.best_psnr:
            st.best_psnr = psnr
            save_checkpoint(self.out / "best.pt", st, self.cfg, self.losses, extra)
        self._save_latest(extra)

    def _save_latest(self, extra: dict[str, Any]) -> None:
        save_checkpoint(self.out / "latest.pt", self.st, self.cfg, self.losses, extra)
        self.saved_at = self.st.it

    def _extra(self, elapsed: float | None = None) -> dict[str, Any]:
        """What a checkpoint holds beyond :func:`save_checkpoint`'s state."""
        gan = self.gan
        return {
            "adversary": gan.state_dict() if gan is not None else None,
            "d_losses": self.d_losses,
            "elapsed_s": time.monotonic() - self.started if elapsed is None else elapsed,
        }

    def loop(self, progress: bool) -> dict[str, Any]:
        cfg, st, world = self.cfg, self.st, self.world
        batches = PatchBatches(
            self.train_pairs,
            cfg.scale,
            cfg.data.patch,
            cfg.data.batch,
            self.channels,
            cfg.seed,
            cfg.data.flips,
            cfg.data.rot90,
            start=st.it,
            stop=cfg.iters,
            rank=world.rank,
            world=world.size,
        )
        loader = DataLoader(
            batches, batch_size=None, num_workers=cfg.data.workers, pin_memory=self.device.startswith("cuda")
        )
        self.board = _board(self.out, st.it) if cfg.tensorboard and world.main else None
        deadline = self.started + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
        from tqdm import tqdm

        bar = tqdm(
            total=None if cfg.iters >= TIME_BOUNDED_ITERS else cfg.iters,
            initial=st.it,
            desc=f"train {cfg.model} x{cfg.scale}",
            unit="it",
            leave=False,
            disable=not progress,
        )
        # one process: a stop waits for the step's end and keeps it (ranks would stop at different steps)
        with stopping.deferred_stops(enabled=world.size == 1) as stops:
            batches_it = iter(loader)
            while (batch := self._next(batches_it, stops)) is not None:
                self.step(*batch)
                bar.update(1)
                # the time limit is one decision for all ranks (a collective only when there is a limit)
                last = st.it >= cfg.iters or (deadline < math.inf and world.any(time.monotonic() > deadline))
                if st.it % cfg.val_every == 0 or st.it in cfg.snapshots or last:
                    self.flush()
                    bar.set_postfix(loss=f"{self.losses[-1]:.4f}")
                    if world.main:
                        self.checkpoint()
                if stops.signum is not None and not last:
                    self.stop_here(stops)
                if last:
                    break
        bar.close()
        done = self.finish() if world.main else {"rank": world.rank}
        stops.stop()  # one asked for during the last step: the run is whole, then it stops as asked
        return done

    def _next(self, batches: Iterator[Any], stops: stopping.StopRequests) -> Any:
        """The next batch, None at the end; a stop asked for while waiting for one (data workers
        die of the same SIGTERM) is taken here, between two steps."""
        try:
            return next(batches)
        except StopIteration:
            return None
        except Exception:
            if stops.signum is None:
                raise
        self.stop_here(stops)
        return None

    def stop_here(self, stops: stopping.StopRequests) -> None:
        """latest.pt at this step (no validation, no log line), then the stop acted on: resuming
        goes on from this very step, as the data are drawn per iteration."""
        st = self.st
        self.flush()
        if self.saved_at != st.it:  # else a validation at this step wrote it already
            self._save_latest(self._extra())
        self.log(f"stopped at iteration {st.it}: latest.pt holds it (--resume goes on from there)")
        stops.stop()

    def finish(self) -> dict[str, Any]:
        """The final scores (and bicubic's on the same images), the trained weights and metrics.json."""
        st, cfg = self.st, self.cfg
        final = st.ema or st.model
        psnr, ssim = validate(final, self.val_pairs, cfg.scale, self.device)
        bic = mean_scores(bicubic_sr, self.val_pairs, cfg.scale)
        metrics = {
            "iterations": st.it,
            "val_psnr": psnr,
            "val_ssim": ssim,
            "bicubic_psnr": bic[0],
            "bicubic_ssim": bic[1],
            "margin_db": psnr - bic[0],
            "final_loss": self.losses[-1] if self.losses else None,
            "losses": self.losses,
            "val_images": [n for n, _, _ in self.val_pairs],
            "seconds": time.monotonic() - self.started,
            "world_size": self.world.size,
            "recipe": cfg.recipe,
        }
        if self.gan is not None:
            metrics["d_losses"] = self.d_losses
        if hasattr(final, "arch"):  # the trained weights (EMA when kept), which srkit upscale/eval/bench load
            save_model(final, self.out / "model.safetensors", extra={"val_psnr": psnr, "iterations": st.it})
            metrics["model"] = "model.safetensors"
        atomic.write_json(self.out / "metrics.json", metrics)
        if self.board is not None:
            self.board.close()
        self.on_validate(st.it, psnr, True)
        return metrics


def snapshot_path(out: Path, it: int) -> Path:
    """Where a run keeps its weights at iteration ``it`` (``TrainConfig.snapshots``)."""
    return out / "snapshots" / f"model_{it}.safetensors"


def _ema_pairs(ema: nn.Module | None, model: nn.Module) -> tuple[list[Any], list[Any]]:
    """(floating, integer) pairs of EMA and model tensors, gathered once (state_dict tensors share
    the parameters' storage); integer ones (BatchNorm's batch count) are copied, not averaged."""
    if ema is None:
        return [], []
    both = list(zip(ema.state_dict().values(), model.state_dict().values(), strict=True))
    return [(e, m) for e, m in both if e.is_floating_point()], [(e, m) for e, m in both if not e.is_floating_point()]


def _ddp_wrapper(world: distributed.World) -> Any:
    if world.size == 1:
        return lambda m: m
    from torch.nn.parallel import DistributedDataParallel

    ids = [torch.device(world.device).index] if world.device.startswith("cuda") else None
    return lambda m: DistributedDataParallel(m, device_ids=ids)


def _board(out: Path, step: int) -> Any:
    """A TensorBoard writer in ``out/tensorboard``; on resume, events logged after the checkpoint at
    ``step`` (by the run that crashed) are dropped."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise RuntimeError(
            "TensorBoard logging needs the tensorboard package (pip install tensorboard), or set tensorboard=false"
        ) from e
    return SummaryWriter(str(out / "tensorboard"), purge_step=step + 1 if step else None)
