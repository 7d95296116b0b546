"""SRGAN-style training: pixel pre-training, then generator + discriminator steps with a perceptual
and an adversarial term; crash and resume reproduce the uninterrupted run; TensorBoard and the
exported model are in the run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import srkit.train.trainer as trainer
from srkit.models import load
from srkit.train import ConfigError, load_config, train

from .test_train_losses import fake_vgg19

SMALL_GAN = [
    "model=srresnet",
    "model_args={blocks: 2, channels: 16}",
    "scale=2",
    "iters=8",
    "val_every=3",
    "data.patch=32",
    "data.batch=4",
    "optim.lr=0.001",
    "adversarial.enabled=true",
    "adversarial.pretrain_iters=3",
    "adversarial.d_blocks=2",
    "adversarial.d_channels=8",
    "loss=mse+perceptual*0.006",
    "perceptual.layer=relu2_2",
]


class Crash(Exception):
    pass


def test_gan_training_pretrains_then_trains_both_and_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_vgg19(tmp_path / "vgg19.pth")
    over = [*SMALL_GAN, f"perceptual.weights={tmp_path / 'vgg19.pth'}"]
    whole = train(load_config(overrides=over), tmp_path / "a", log=lambda *_: None, progress=False)
    assert len(whole["losses"]) == 8
    assert len(whole["d_losses"]) == 5  # iterations 3..7: the discriminator steps only after pre-training
    assert all(0 < d < 10 for d in whole["d_losses"])
    blob = torch.load(tmp_path / "a" / "latest.pt", weights_only=True)
    assert blob["adversary"]["net"] and blob["adversary"]["opt"]["state"]  # the discriminator trained and is kept

    # a crash right after the checkpoint at iteration 6, then --resume: the same losses on both sides
    real_save = trainer.save_checkpoint

    def save_then_crash(path: Path, st: trainer.State, *args: object) -> None:
        real_save(path, st, *args)  # type: ignore[arg-type]
        if path.name == "latest.pt" and st.it == 6:
            raise Crash

    monkeypatch.setattr(trainer, "save_checkpoint", save_then_crash)
    with pytest.raises(Crash):
        train(load_config(overrides=over), tmp_path / "b", log=lambda *_: None, progress=False)
    monkeypatch.setattr(trainer, "save_checkpoint", real_save)
    resumed = train(load_config(overrides=over), tmp_path / "b", resume=True, log=lambda *_: None, progress=False)
    assert resumed["losses"] == whole["losses"] and resumed["d_losses"] == whole["d_losses"]

    # the run folder: TensorBoard events with every loss and validation, and the model as a checkpoint
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "b" / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/loss")] == list(range(1, 9))  # resumed: no step twice
    assert [e.value for e in acc.Scalars("train/loss")] == pytest.approx(whole["losses"], rel=1e-6)
    assert len(acc.Scalars("train/d_loss")) == 5
    logged = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert [
        e.value for e in EventAccumulator(str(tmp_path / "a" / "tensorboard")).Reload().Scalars("val/psnr")
    ] == pytest.approx([r["val_psnr"] for r in logged], rel=1e-6)
    model = load(tmp_path / "a" / "model.safetensors")
    assert model.arch == "srresnet" and model.scale == 2


def test_adversarial_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="loss: the 'perceptual' term needs perceptual.weights"):
        load_config(overrides=["loss=l1+perceptual*0.01"])
    with pytest.raises(ConfigError, match="adversarial.pretrain_loss: loss 'vgg'"):
        load_config(overrides=["adversarial.pretrain_loss=vgg"])
    with pytest.raises(ConfigError, match="adversarial.d_lr: invalid value -1"):
        load_config(overrides=["adversarial.d_lr=-1"])


def test_rgb_mean_subtraction_trains_and_is_recorded(tmp_path: Path) -> None:
    over = [
        "model=espcn",
        "model_args={in_channels: 3}",
        "scale=2",
        "iters=4",
        "val_every=4",
        "data.patch=32",
        "data.batch=2",
        "data.rgb_mean=data",
        "tensorboard=false",
    ]
    m = train(load_config(overrides=over), tmp_path, log=lambda *_: None, progress=False)
    model = load(tmp_path / "model.safetensors")
    assert len(model.hparams["input_mean"]) == 3 and 0.2 < min(model.hparams["input_mean"]) < 0.8
    assert m["iterations"] == 4 and not (tmp_path / "tensorboard").exists()


def test_mixed_precision_adversarial_training(tmp_path: Path) -> None:
    """bf16 and fp16 autocast (fp16 with loss scaling, for both networks) train the generator and the
    discriminator; their losses follow the float32 run's to within the precision's rounding."""
    over = [
        "model=srresnet",
        "model_args={blocks: 1, channels: 8}",
        "scale=2",
        "iters=4",
        "val_every=4",
        "data.patch=32",
        "data.batch=2",
        "adversarial.enabled=true",
        "adversarial.pretrain_iters=1",
        "adversarial.d_blocks=1",
        "adversarial.d_channels=8",
        "tensorboard=false",
    ]
    runs = {
        amp: train(load_config(overrides=[*over, f"amp={amp}"]), tmp_path / amp, log=lambda *_: None, progress=False)
        for amp in ("none", "bf16", "fp16")
    }
    for amp in ("bf16", "fp16"):
        assert runs[amp]["losses"] == pytest.approx(runs["none"]["losses"], rel=0.05)
        assert runs[amp]["d_losses"] == pytest.approx(runs["none"]["d_losses"], rel=0.05)
        assert runs[amp]["losses"] != runs["none"]["losses"]  # autocast did run in reduced precision
    blob = torch.load(tmp_path / "fp16" / "latest.pt", weights_only=True)
    assert blob["scaler"] and blob["adversary"]["scaler"]  # both loss scalers are saved for resume
