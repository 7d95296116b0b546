"""``srkit-search reinforce``: a REINFORCE controller over DeCoNAS's dense connections. Options left
out take DenseSpace's, DenseSearchConfig's and ReinforceConfig's defaults."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ..args import count, default, given, number, size_hw
from ..errors import UsageError, device
from .common import folder_args, owned


def add_parser(sub: Any) -> None:
    from srkit.search.dense import DenseSpace as S
    from srkit.search.reinforce import DenseSearchConfig as D
    from srkit.search.reinforce import ReinforceConfig as R

    p = sub.add_parser("reinforce", help="DeCoNAS's dense space: a REINFORCE controller, PSNR minus complexity")
    folder_args(p)
    p.add_argument("--quick", action="store_true", help="a small run on the embedded photographs (minutes on a CPU)")
    p.add_argument("--device", type=device, help="(default: cuda if any)")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help=default(S, "scale"))
    p.add_argument("--blocks", type=count(1), help=default(S, "blocks"))
    p.add_argument("--layers", type=count(1), help=default(S, "layers"))
    p.add_argument("--channels", type=count(1), help=default(S, "channels"))
    p.add_argument("--iters", type=count(1), help=f"supernet training steps (default: {D().supernet.iters})")
    p.add_argument("--steps", type=count(1), help="controller steps " + default(R, "steps"))
    p.add_argument(
        "--penalty-db",
        type=number(0.0),
        help="dB per fully dense network's worth of complexity " + default(R, "penalty_db"),
    )
    p.add_argument("--complexity", choices=("params", "flops", "latency"), help=default(R, "complexity"))
    p.add_argument("--latency-input", type=size_hw, help=default(D, "latency_input"))
    p.set_defaults(func=run)


def config(a: argparse.Namespace) -> Any:
    from srkit.search import reinforce as rf
    from srkit.search.dense import DenseSpace

    if a.quick:
        return rf.quick_dense(**given(a, device="device"))
    return rf.DenseSearchConfig(
        space=DenseSpace(**given(a, scale="scale", blocks="blocks", layers="layers", channels="channels")),
        supernet=dataclasses.replace(rf.DenseSearchConfig().supernet, **given(a, iters="iters")),
        controller=rf.ReinforceConfig(**given(a, steps="steps", penalty_db="penalty_db", complexity="complexity")),
        **given(a, device="device", latency_input="latency_input"),
    )


def run(a: argparse.Namespace) -> int:
    from srkit.search import reinforce as rf

    cfg = config(a)
    try:
        with owned(a):
            rf.run(cfg, a.out)
    except ValueError as e:
        raise UsageError(f"{e}") from e
    return 0
