"""The training loop: optimiser, schedule with warm-up, gradient clipping, AMP, EMA, optional
perceptual and adversarial (SRGAN) terms, data-parallel under torchrun, validation with the
standard protocol, TensorBoard, and atomic checkpoints that resume a killed run exactly (on the CPU)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader

from .. import atomic
from ..data.degrade import bicubic_sr
from ..evaluate import UpscaleFn, score, summary
from ..inference import Upscaler
from ..models import create_model, from_genotype
from ..models import save as save_model
from ..models.detect import CheckpointError
from ..models.registry import set_input_mean
from . import distributed, runfolder
from .recipes import TIME_BOUNDED_ITERS
from .adversarial import Adversary
from .config import TrainConfig, resume_changes
from .data import PatchBatches, load_pairs, rgb_mean
from .losses import make_loss
from .perceptual import PerceptualLoss


Pairs = list[tuple[str, torch.Tensor, torch.Tensor]]


def build_model(cfg: TrainConfig) -> nn.Module:
    """A zoo model, or the model a genotype JSON file describes (:func:`srkit.models.from_genotype`)."""
    if cfg.model.endswith(".json"):
        return from_genotype(cfg.model, cfg.scale, **cfg.model_args)
    return create_model(cfg.model, scale=cfg.scale, **cfg.model_args)


def lr_factor(cfg: TrainConfig, it: int) -> float:
    o = cfg.optim
    warm = min(1.0, (it + 1) / o.warmup_iters) if o.warmup_iters else 1.0
    if o.schedule == "cosine":
        f = 0.5 * (1 + math.cos(math.pi * min(it, cfg.iters) / cfg.iters))
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


def save_checkpoint(path: Path, st: State, cfg: TrainConfig, losses: list[float],
                    extra: dict[str, Any] | None = None) -> None:
    blob = {**(extra or {}), "iteration": st.it, "model": st.model.state_dict(), "ema": st.ema.state_dict() if st.ema else None,
            "optimizer": st.opt.state_dict(), "scheduler": st.sched.state_dict(), "scaler": st.scaler.state_dict(),
            "rng_cpu": torch.get_rng_state(), "best_psnr": st.best_psnr, "losses": losses, "config": cfg.to_dict()}
    buf = io.BytesIO()
    torch.save(blob, buf)
    atomic.write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: cannot resume from it: corrupt or truncated "
                              f"({type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]})") from e
    if not isinstance(blob, dict) or "iteration" not in blob or "model" not in blob:
        raise CheckpointError(f"{path}: not an srkit training checkpoint")
    return blob


def mean_scores(upscale: UpscaleFn, pairs: Pairs, scale: int) -> tuple[float, float]:
    res = summary(score(upscale, pairs, scale))
    return float(res["mean_psnr"]), float(res["mean_ssim"])  # type: ignore[arg-type]


def validate(model: nn.Module, pairs: Pairs, scale: int, device: str) -> tuple[float, float]:
    """Validation scores of ``model`` in eval mode (the Upscaler runs it in place: same device, float32),
    then the model is put back in the mode it was in."""
    was_training = model.training
    up = Upscaler(model, device=device)
    try:
        return mean_scores(lambda lr, s: up(lr), pairs, scale)
    finally:
        model.train(was_training)


def train(cfg: TrainConfig, out: str | Path, *, resume: bool = False, log: Any = print, progress: bool = True,
          nni_final: bool = True, overwrite: bool = False) -> dict[str, Any]:
    """Train per ``cfg`` into ``out`` (config.yaml, latest.pt, best.pt, log.jsonl, metrics.json,
    model.safetensors, tensorboard/).

    ``progress``: show a progress bar. Under NNI, validation PSNR is reported as intermediate
    results, and the final one as the trial's result unless ``nni_final=False`` (a caller that
    reports its own, e.g. srkit-search's latency-aware reward). Under ``torchrun`` the run is data
    parallel (:mod:`.distributed`); rank 0 validates, logs and saves, and returns the metrics (the
    other ranks return ``{"rank": r}``). The folder is held for this run alone
    (:mod:`.runfolder`): one that already holds a run is refused unless ``resume`` continues it or
    ``overwrite`` replaces it."""
    world = distributed.setup(cfg.device)
    try:
        held = runfolder.claim(Path(out), resume=resume, overwrite=overwrite) if world.main else contextlib.nullcontext()
        with held:
            return _train(cfg, Path(out), world, resume=resume, log=log if world.main else (lambda *_: None),
                          progress=progress and world.main, nni_final=nni_final)
    finally:
        distributed.teardown(world)


def _train(cfg: TrainConfig, out: Path, world: distributed.World, *, resume: bool, log: Any, progress: bool,
           nni_final: bool) -> dict[str, Any]:
    device = world.device
    out.mkdir(parents=True, exist_ok=True)
    latest = out / "latest.pt"
    blob = load_checkpoint(latest) if resume and latest.exists() else None
    if resume and blob is None:
        log(f"no checkpoint in {out}: starting from scratch")
    # the run's clock: a resumed run continues its predecessor's (max_minutes is the whole run's budget)
    started = time.monotonic() - (float(blob.get("elapsed_s", 0.0)) if blob is not None else 0.0)

    def point(it: int) -> int:
        return schedule_point(cfg, it, time.monotonic() - started)

    train_pairs = load_pairs(cfg.data.data, cfg.scale, "train")
    val_pairs = load_pairs(cfg.data.val_data or cfg.data.data, cfg.scale, "valid")
    torch.manual_seed(cfg.seed)
    model = build_model(cfg)
    channels = int(getattr(model, "in_channels", 3))
    mean = rgb_mean(cfg.data.rgb_mean, train_pairs, channels)
    if mean is not None:
        set_input_mean(model, mean)
    model = model.to(device).train()
    ema = copy.deepcopy(model).eval().requires_grad_(False) if cfg.ema else None
    opt = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: lr_factor(cfg, point(it)))
    scaler = torch.amp.GradScaler(device.split(":")[0], enabled=cfg.amp == "fp16")
    wrap = _ddp_wrapper(world)
    net = wrap(model)  # what the steps call: DDP under torchrun
    gan = Adversary(cfg.adversarial, channels, device, cfg.amp, wrap) if cfg.adversarial.enabled else None
    st = State(model, ema, opt, sched, scaler)
    losses: list[float] = []
    d_losses: list[float] = []
    if blob is not None:
        model.load_state_dict(blob["model"])
        if ema is not None and blob["ema"] is not None:
            ema.load_state_dict(blob["ema"])
        opt.load_state_dict(blob["optimizer"])
        sched.load_state_dict(blob["scheduler"])
        scaler.load_state_dict(blob["scaler"])
        if gan is not None:
            if blob.get("adversary") is None:
                raise CheckpointError(f"{latest}: holds no discriminator, but adversarial training is enabled")
            gan.load_state_dict(blob["adversary"])
            d_losses = list(blob.get("d_losses", []))
        torch.set_rng_state(blob["rng_cpu"])
        st.it, st.best_psnr, losses = int(blob["iteration"]), float(blob["best_psnr"]), list(blob["losses"])
        changed = resume_changes(blob.get("config"), cfg)
        if "optim.lr" in changed:  # the new base rate, at the schedule's current point
            sched.base_lrs = [cfg.optim.lr] * len(sched.base_lrs)
            for g in opt.param_groups:
                g["initial_lr"], g["lr"] = cfg.optim.lr, cfg.optim.lr * lr_factor(cfg, point(sched.last_epoch))
        log(f"resumed at iteration {st.it}" + (f", applying the changed {', '.join(changed)}" if changed else ""))
    if world.main:
        if resume:  # the log says no more than the checkpoint it resumes from
            runfolder.reconcile_log(out / "log.jsonl", st.it)
        atomic.write_bytes(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False).encode())
    batches = PatchBatches(train_pairs, cfg.scale, cfg.data.patch, cfg.data.batch, channels, cfg.seed,
                           cfg.data.flips, cfg.data.rot90, start=st.it, stop=cfg.iters, rank=world.rank, world=world.size)
    loader = DataLoader(batches, batch_size=None, num_workers=cfg.data.workers, pin_memory=device.startswith("cuda"))
    factories = {"perceptual": lambda: PerceptualLoss(cfg.perceptual.weights, cfg.perceptual.layer,
                                                      cfg.perceptual.criterion).to(device)}
    loss_fn = make_loss(cfg.loss, factories)
    pre_fn = make_loss(cfg.adversarial.pretrain_loss, factories) if gan is not None else loss_fn
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)

    def autocast() -> Any:
        return torch.autocast(device.split(":")[0], dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None)

    board = _board(out, st.it) if cfg.tensorboard and world.main else None
    deadline = started + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    from tqdm import tqdm  # noqa: PLC0415

    bar = tqdm(total=None if cfg.iters >= TIME_BOUNDED_ITERS else cfg.iters, initial=st.it, desc=f"train {cfg.model} x{cfg.scale}", unit="it", leave=False,
               disable=not progress)
    # EMA pairs of floating tensors, gathered once (state_dict tensors share the parameters' storage)
    both = list(zip(ema.state_dict().values(), model.state_dict().values(), strict=True)) if ema is not None else []
    ema_pairs = [(e, m) for e, m in both if e.is_floating_point()]
    ema_counters = [(e, m) for e, m in both if not e.is_floating_point()]  # e.g. BatchNorm's batch count
    pending: list[tuple[int, torch.Tensor, torch.Tensor | None]] = []  # losses read back at validation, not every step

    def flush() -> None:
        if not pending:
            return
        g = torch.stack([p[1] for p in pending]).tolist()
        losses.extend(g)
        d = [(p[0], p[2]) for p in pending if p[2] is not None]
        dv = torch.stack([v for _, v in d]).tolist() if d else []
        d_losses.extend(dv)
        if board is not None:
            for (i, _, _), v in zip(pending, g, strict=True):
                board.add_scalar("train/loss", v, i + 1)
            for (i, _), v in zip(d, dv, strict=True):
                board.add_scalar("train/d_loss", v, i + 1)
        pending.clear()
        bar.set_postfix(loss=f"{losses[-1]:.4f}")

    for it, lr, hr in loader:
        lr, hr = lr.to(device, non_blocking=True), hr.to(device, non_blocking=True)
        adversarial = gan is not None and gan.active(it)
        with autocast():
            sr = net(lr).float()
            loss = (loss_fn if gan is None or adversarial else pre_fn)(sr, hr)
            if adversarial:
                loss = loss + cfg.adversarial.weight * gan.generator_term(sr)  # type: ignore[union-attr]
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.optim.clip_grad:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.clip_grad)
        scaler.step(opt)
        scaler.update()
        d_loss = gan.step(sr, hr, lr_factor(cfg, point(it)), autocast) if adversarial else None  # type: ignore[union-attr]
        sched.step()
        if ema_pairs:  # decay warmed up as min(ema, (1 + t) / (10 + t)), so short runs are not all init
            d = min(cfg.ema, (1 + it) / (10 + it))  # type: ignore[type-var]
            with torch.no_grad():
                torch._foreach_lerp_([e for e, _ in ema_pairs], [m for _, m in ema_pairs], 1.0 - d)
                for e, m in ema_counters:
                    e.copy_(m)
        st.it = it + 1
        pending.append((it, loss.detach(), d_loss))
        bar.update(1)
        # the time limit is one decision for all ranks (a collective only when there is a limit)
        last = st.it >= cfg.iters or (deadline < math.inf and world.any(time.monotonic() > deadline))
        if st.it % cfg.val_every == 0 or last:
            flush()
            if world.main:
                psnr, ssim = validate(ema or model, val_pairs, cfg.scale, device)
                record = {"iteration": st.it, "loss": losses[-1], "val_psnr": psnr, "val_ssim": ssim,
                          "lr": opt.param_groups[0]["lr"], "seconds": time.monotonic() - started}
                if d_losses:
                    record["d_loss"] = d_losses[-1]
                with (out / "log.jsonl").open("a") as f:
                    f.write(json.dumps(record) + "\n")
                if board is not None:
                    for k in ("val_psnr", "val_ssim", "lr"):
                        board.add_scalar(k.replace("val_", "val/") if k != "lr" else "train/lr", record[k], st.it)
                    board.flush()
                report_to_nni(psnr, final=False)
                extra = {"adversary": gan.state_dict() if gan is not None else None, "d_losses": d_losses,
                         "elapsed_s": time.monotonic() - started}
                if psnr > st.best_psnr:
                    st.best_psnr = psnr
                    save_checkpoint(out / "best.pt", st, cfg, losses, extra)
                save_checkpoint(latest, st, cfg, losses, extra)
        if last:
            break
    bar.close()
    if not world.main:
        return {"rank": world.rank}
    final = ema or model
    psnr, ssim = validate(final, val_pairs, cfg.scale, device)
    bic = mean_scores(bicubic_sr, val_pairs, cfg.scale)
    metrics = {"iterations": st.it, "val_psnr": psnr, "val_ssim": ssim, "bicubic_psnr": bic[0], "bicubic_ssim": bic[1],
               "margin_db": psnr - bic[0], "final_loss": losses[-1] if losses else None, "losses": losses,
               "val_images": [n for n, _, _ in val_pairs], "seconds": time.monotonic() - started, "world_size": world.size,
               "recipe": cfg.recipe}
    if gan is not None:
        metrics["d_losses"] = d_losses
    if hasattr(final, "arch"):  # the trained weights (EMA when kept) as a checkpoint srkit upscale/eval/bench load
        save_model(final, out / "model.safetensors", extra={"val_psnr": psnr, "iterations": st.it})
        metrics["model"] = "model.safetensors"
    atomic.write_json(out / "metrics.json", metrics)
    if board is not None:
        board.close()
    if nni_final:
        report_to_nni(psnr, final=True)
    return metrics


def _ddp_wrapper(world: distributed.World) -> Any:
    if world.size == 1:
        return lambda m: m
    from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

    ids = [torch.device(world.device).index] if world.device.startswith("cuda") else None
    return lambda m: DistributedDataParallel(m, device_ids=ids)


def _board(out: Path, step: int) -> Any:
    """A TensorBoard writer in ``out/tensorboard``; on resume, events logged after the checkpoint at
    ``step`` (by the run that crashed) are dropped."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: PLC0415
    except ImportError as e:
        raise RuntimeError("TensorBoard logging needs the tensorboard package (pip install tensorboard), "
                           "or set tensorboard=false") from e
    return SummaryWriter(str(out / "tensorboard"), purge_step=step + 1 if step else None)


def report_to_nni(psnr: float, *, final: bool) -> None:
    """Report validation PSNR to NNI when this process is an NNI trial (NNI sets NNI_PLATFORM)."""
    if not os.environ.get("NNI_PLATFORM"):
        return
    import nni  # noqa: PLC0415

    (nni.report_final_result if final else nni.report_intermediate_result)(psnr)
