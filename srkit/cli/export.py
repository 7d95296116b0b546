"""``srkit export``: a model to ONNX or a ``torch.export`` program, checked against PyTorch on a
real image right after export (the check is printed and stored next to the file as
``<file>.check.json``)."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

import torch
from torch import nn

from .. import export as ex
from ..data.imresize import imresize
from ..data.io import read_image
from ..data.photos import load_photo
from ..models import create_model, from_genotype, list_models, load
from .args import count, size_hw
from .errors import UsageError


def build(spec: str, weights: str | None, scale: int | None, *, untrained: bool = False) -> nn.Module:
    """A checkpoint file, a genotype JSON (srkit-search), or a zoo name with ``--weights``; a network
    without trained weights (a genotype, a bare zoo name) only with ``untrained``."""
    if spec.endswith(".json"):
        if not untrained:
            raise UsageError(
                f"{spec}: a genotype holds no weights; train it (srkit train --model {spec}) and export its "
                "model.safetensors, or pass --untrained to export random weights (to time the architecture)"
            )
        try:
            return from_genotype(spec, scale or 4)
        except (ValueError, TypeError, KeyError) as e:
            raise UsageError(f"{spec}: not a genotype srkit can build ({e})") from None
    if weights is not None:
        if spec not in list_models():
            raise UsageError(f"unknown zoo model {spec!r}; srkit models: {', '.join(list_models())}")
        return load(weights, scale=scale, arch=spec)
    if Path(spec).is_file():
        return load(spec, scale=scale)
    if spec in list_models():
        if untrained:
            return create_model(spec, scale=scale or 4)
        raise UsageError(
            f"{spec}: a zoo name needs its weights (--weights FILE), or --untrained to export random weights"
        )
    raise UsageError(f"{spec!r}: no such checkpoint or genotype file, and not a zoo name")


def check_image(path: str | None, scale: int, side: int = 96) -> tuple[torch.Tensor, str]:
    """The LR image the export is checked on: the file given, or the embedded astronaut photo
    downscaled by ``scale`` (MATLAB bicubic), its centre ``side`` x ``side`` either way."""
    if path:
        img, name = read_image(path)[:3], Path(path).name
    else:
        hr = load_photo("astronaut")
        img = imresize(hr[None].double() / 255.0, 1 / scale)[0].mul(255).round().clamp(0, 255).to(torch.uint8)
        name = f"astronaut (skimage) / {scale} bicubic"
    h, w = img.shape[-2:]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return img[:, top : top + side, left : left + side].contiguous(), name


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists; pass --overwrite to replace it")
    sources = [Path(p) for p in (args.model, args.weights) if p and Path(p).is_file()]
    if any(p.resolve() == out.resolve() for p in sources):
        raise UsageError(f"{out} is the file exported from: write the export under another name")
    model = build(args.model, args.weights, args.scale, untrained=args.untrained)
    img, name = check_image(args.check_image, int(model.scale))
    if not args.dynamic_shapes:  # a static file takes its one size: the check image is resized to it
        img = _fit(img, args.input_size)
    chk = _export_checked(model, out, img, name, args)
    path = chk.save(out.with_name(out.name + ".check.json"))
    verdict = f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB" if chk.ok else f"did NOT write {out} (the check failed"
    print(
        f"{verdict}, {args.format}, {args.dtype}); {chk.runtime} {'matches' if chk.ok else 'DOES NOT match'} "
        f"PyTorch on {name} {tuple(chk.input_hw)}: max |diff| {chk.max_abs_diff:.2e} "
        f"(tolerance {chk.tolerance:.0e}), PSNR {chk.psnr_db:.1f} dB; {path}"
    )
    return 0 if chk.ok else 1


def _export_checked(model: nn.Module, out: Path, img: torch.Tensor, name: str, args: argparse.Namespace) -> ex.Check:
    """Export beside ``out``, check that file, and only then put it in place: a file that fails its
    check never replaces anything (its check is still reported)."""
    example = None if args.dynamic_shapes else torch.zeros(1, int(getattr(model, "in_channels", 3)), *args.input_size)
    tmp = out.with_name(f".{out.name}.unchecked")
    try:
        ex.export(
            model,
            tmp,
            fmt=args.format,
            dtype=args.dtype,
            dynamic=args.dynamic_shapes,
            opset=args.opset,
            example=example,
        )
        chk = dataclasses.replace(ex.check(model, tmp, img, name, fmt=args.format, dtype=args.dtype), file=str(out))
        if chk.ok:
            os.replace(tmp, out)
        return chk
    finally:
        tmp.unlink(missing_ok=True)


def _fit(img: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    return (
        torch.nn.functional.interpolate(img[None].float(), size=hw, mode="bilinear", align_corners=False)[0]
        .round()
        .to(torch.uint8)
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="a model to ONNX or torch.export, checked against PyTorch")
    p.add_argument(
        "model", help="a checkpoint (.pth/.safetensors), a genotype JSON (srkit-search), or a zoo name with --weights"
    )
    p.add_argument("--weights", help="the checkpoint for a zoo name")
    p.add_argument("--scale", type=count(1), help="checked against the checkpoint; a genotype's scale (default 4)")
    p.add_argument("--format", choices=ex.FORMATS, default="onnx")
    p.add_argument("-o", "--output", required=True, help="the file to write (.onnx / .pt2)")
    p.add_argument(
        "--dynamic-shapes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="any input size (default); --no-dynamic-shapes fixes it to --input-size",
    )
    p.add_argument("--input-size", type=size_hw, default=(180, 320), help="LR HxW of a static export (default 180x320)")
    p.add_argument("--opset", type=count(17), default=ex.DEFAULT_OPSET, help=f"ONNX opset (default {ex.DEFAULT_OPSET})")
    p.add_argument("--dtype", choices=tuple(ex.DTYPES), default="fp32")
    p.add_argument("--check-image", help="the LR image to check the export on (default: an embedded photo)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument(
        "--untrained", action="store_true", help="allow a network without trained weights (a genotype, a zoo name)"
    )
    p.set_defaults(func=run)
