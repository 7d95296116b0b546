"""``srkit train``: train a zoo model (or a genotype JSON) on a folder or the embedded photographs."""

from __future__ import annotations

import argparse

import yaml

from ..train import TrainConfig, load_config, recipes, train
from .args import count, number
from .errors import UsageError, device


def run(args: argparse.Namespace) -> int:
    names = {
        "model": "model",
        "scale": "scale",
        "max_minutes": "max_minutes",
        "iters": "iters",
        "device": "device",
        "data": "data.data",
        "recipe": "recipe",
    }
    typed = {field: getattr(args, opt) for opt, field in names.items() if getattr(args, opt) is not None}
    cfg = load_config(args.config, list(args.set or []), typed, base={"recipe": "auto"})
    if args.show_recipe:
        return show_recipe(cfg)
    if not args.out:
        raise UsageError("--out (the run folder) is required")
    m = train(cfg, args.out, resume=args.resume, overwrite=args.overwrite)
    if "iterations" not in m:  # a rank other than 0 under torchrun: rank 0 reports
        return 0
    print(
        f"{cfg.model} x{cfg.scale}: {m['iterations']} iterations, validation {m['val_psnr']:.3f} dB / {m['val_ssim']:.4f} "
        f"(bicubic {m['bicubic_psnr']:.3f} dB: {m['margin_db']:+.3f} dB) -> {args.out}/metrics.json"
    )
    return 0


def show_recipe(cfg: TrainConfig) -> int:
    """Print the recipe a run would take and every field it sets (YAML), without training."""
    _, recipe = recipes.choose(cfg.recipe, cfg.model, cfg.iters, cfg.max_minutes)
    print(f"# {cfg.model} x{cfg.scale}: recipe {cfg.recipe}" + (f" -- {recipe.source}" if recipe else ""))
    if cfg.iters >= recipes.TIME_BOUNDED_ITERS:
        print(f"# the run ends after {cfg.max_minutes} minutes; the schedule follows the clock")
    print(yaml.safe_dump(cfg.to_dict(), sort_keys=False).rstrip())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model (checkpoints, resume, validation with the standard protocol)")
    p.add_argument("--model", help="zoo name or genotype JSON")
    p.add_argument("--scale", type=count(1))
    p.add_argument("--data", help="folder (HR/ [+ LR_bicubic/X<s>/]) or 'skimage'")
    p.add_argument("--config", help="YAML file with TrainConfig fields")
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a field, e.g. optim.lr=1e-3 (repeatable)"
    )
    p.add_argument("--iters", type=count(1))
    p.add_argument("--max-minutes", dest="max_minutes", type=number(0.0, above=True))
    p.add_argument("--device", type=device)
    p.add_argument("--resume", action="store_true", help="continue from <out>/latest.pt")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out (refused otherwise)")
    p.add_argument(
        "--recipe",
        choices=recipes.RECIPES_CHOICES,
        help="the model's paper recipe, quick (runs of minutes), or none; auto (the default, unless "
        "--config sets one): paper from 20,000 iterations (or an hour) up, quick below (fields you set are kept)",
    )
    p.add_argument(
        "--show-recipe", action="store_true", help="print the recipe and the configuration it gives, and exit"
    )
    p.add_argument("--out", help="run folder")
    p.set_defaults(func=run)
