"""``srkit-search nni``: multi-trial search or tuning as an NNI experiment. Options left out take
NNISettings', ExperimentConfig's and BlockSpace's defaults."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from srkit.models.upsamplers import UPSAMPLERS

from ..args import count, default, given, number, size_hw
from ..errors import UsageError, device
from .common import blocks_in_order, folder_args, owned, runtime_arg


def add_parser(sub: Any) -> None:
    from srkit.search import nni_adapter as na

    p = sub.add_parser(
        "nni", help="multi-trial search or hyper-parameter tuning as an NNI experiment", description=__doc__
    )
    folder_args(p)
    p.add_argument(
        "--mode",
        choices=("nas", "hpt", "srgan"),
        help="search architectures, tune --model's training, or search SRGAN's architecture and training "
        + default(na.NNISettings, "mode"),
    )
    p.add_argument("--srgan-space", help="srgan: a JSON space (SRGANSpace.save) instead of the default")
    p.add_argument("--vgg-weights", help="srgan: VGG19 weights (torchvision layout) for the VGG54 perceptual term")
    p.add_argument("--model", help="hpt: zoo name or genotype JSON")
    _experiment_args(p, na.ExperimentConfig, na.TUNERS)
    _space_args(p)
    _trial_args(p, na.NNISettings)
    p.set_defaults(func=run, parser=p)


def _experiment_args(p: argparse.ArgumentParser, e: type, tuners: tuple[str, ...]) -> None:
    p.add_argument("--tuner", choices=tuners, help=default(e, "tuner"))
    p.add_argument("--trials", type=count(1), help=default(e, "trials"))
    p.add_argument("--concurrency", type=count(1), help=default(e, "concurrency"))
    p.add_argument("--gpus", type=count(0), nargs="*", help="GPU indices for the trials (one GPU per trial)")
    p.add_argument("--port", type=count(1), help="NNI web UI port " + default(e, "port"))
    p.add_argument("--training-service", help=default(e, "training_service"))
    p.add_argument("--seed", type=count(0), help=default(e, "seed"))


def _space_args(p: argparse.ArgumentParser) -> None:
    from srkit.search.space import BlockSpace as B

    p.add_argument("--channels", type=count(1), nargs="+", help="nas: widths to choose from " + default(B, "channels"))
    p.add_argument(
        "--upsamplers", nargs="+", choices=UPSAMPLERS, help="nas: upsamplers to choose from " + default(B, "upsamplers")
    )
    p.add_argument("--min-blocks", type=count(1), help=default(B, "min_blocks"))
    p.add_argument("--max-blocks", type=count(1), help=default(B, "max_blocks"))


def _trial_args(p: argparse.ArgumentParser, s: type) -> None:
    p.add_argument("--device", type=device, help="(default: cuda if any)")
    p.add_argument("--data", help=default(s, "data"))
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help=default(s, "scale"))
    p.add_argument("--iters", type=count(1), help="training iterations per trial " + default(s, "iters"))
    p.add_argument("--patch", type=count(8), help=default(s, "patch"))
    p.add_argument("--batch", type=count(1), help=default(s, "batch"))
    p.add_argument("--lr", type=number(0.0, above=True), help=default(s, "lr"))
    p.add_argument(
        "--latency-input", type=size_hw, help="LR size HxW the latency is measured at " + default(s, "latency_input")
    )
    runtime_arg(p, s)
    p.add_argument(
        "--target-ms",
        type=number(0.0, above=True),
        help="latency target: the reward loses --penalty-db per 100%% above it",
    )
    p.add_argument("--penalty-db", type=number(0.0), help=default(s, "penalty_db"))


def settings(a: argparse.Namespace) -> tuple[Any, Any]:
    """(NNISettings, ExperimentConfig) from the parsed options; the space is printed with its size."""
    from srkit.search import nni_adapter as na
    from srkit.search.space import BlockSpace
    from srkit.search.srgan_space import SRGANSpace

    trial = given(a, mode="mode", scale="scale", data="data", iters="iters", patch="patch", batch="batch", lr="lr")
    trial |= given(a, device="device", latency_input="latency_input", latency_runtime="latency_runtime")
    trial |= given(a, target_ms="target_ms", penalty_db="penalty_db", vgg_weights="vgg_weights", model="model")
    if trial.get("mode") == "srgan":
        space: BlockSpace | SRGANSpace = SRGANSpace.load(a.srgan_space) if a.srgan_space else SRGANSpace()
    else:
        shape = given(a, channels="channels", min_blocks="min_blocks", max_blocks="max_blocks", upsamplers="upsamplers")
        space = BlockSpace(**given(a, scale="scale"), **shape)
    print(f"search space: {space.size():,} points" + (" x a learning rate" if trial.get("mode") == "srgan" else ""))
    s = na.NNISettings(out=a.out, space=space.as_dict(), **trial)
    exp = given(a, tuner="tuner", trials="trials", concurrency="concurrency", gpu_indices="gpus", port="port")
    exp |= given(a, training_service="training_service", seed="seed")
    return s, na.ExperimentConfig(**exp)


def run(a: argparse.Namespace) -> int:
    from srkit.search import nni_adapter as na

    blocks_in_order(a)
    if a.mode == "hpt" and not a.model:
        raise UsageError("nni --mode hpt needs --model (a zoo name or a genotype JSON)")
    try:
        s, cfg = settings(a)
        with owned(a):
            done = na.run(s, cfg, resume=a.resume)
    except ValueError as e:
        raise UsageError(f"{e}") from e
    for r in sorted(done, key=lambda r: -r["reward"]):
        print(
            f"{r['model']}: reward {r['reward']:.3f}, PSNR {r['psnr']:.3f} dB, "
            f"latency {r['latency_ms']:.3f} ms ({r['trial']})"
        )
    b = na.best(done)
    if b is None:
        print("no trial finished; see the NNI logs under", Path(a.out) / "nni")
        return 1
    print(f"best: {b['model']} (reward {b['reward']:.3f})")
    return 0
