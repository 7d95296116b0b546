"""Turning a ``--model`` argument into something that upscales: 'bicubic', a checkpoint file, or a
zoo name with ``--weights``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import torch

from .. import ops
from .. import runtime as rt
from ..data.degrade import bicubic_sr
from ..evaluate import UpscaleFn
from ..inference import DTYPES, Upscaler
from ..models import hub, list_models, load
from ..runtime import DEFAULT, RUNTIMES
from .args import count
from .errors import UsageError, device


def backend_context(name: str | None) -> contextlib.AbstractContextManager[object]:
    """``--backend``: put one op backend first (falling back, logged, where it cannot run)."""
    return ops.use_backend(name, strict=False) if name else contextlib.nullcontext()


def add_model_args(p: argparse.ArgumentParser, *, multiple: bool = False) -> None:
    if multiple:
        p.add_argument(
            "--models",
            nargs="+",
            required=True,
            help="checkpoints (.pth/.safetensors) or 'bicubic'; NAME=PATH to label one",
        )
    else:
        p.add_argument(
            "--model",
            required=True,  # never bicubic by default: a result the user did not ask for
            help="a checkpoint file (.pth/.safetensors), an official checkpoint's name (imdn_x4; `srkit weights`), "
            "'bicubic', or a zoo name with --weights",
        )
        p.add_argument("--weights", help="checkpoint for a zoo name given as --model")
    p.add_argument("--device", type=device, default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", default="fp32", choices=sorted(DTYPES), help="model precision")
    p.add_argument("--tile", type=count(1), help="LR tile size (default: whole images)")
    p.add_argument("--overlap", type=count(0), default=16, help="LR pixels shared by neighbouring tiles")
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=DEFAULT,
        help="auto (default): the fastest of torch, channels_last and ort on this device, measured once and "
        "remembered; or force one (compile only when asked: its first call compiles)",
    )
    p.add_argument("--channels-last", action="store_true", help="the same as --runtime channels_last")
    p.add_argument("--compile", action="store_true", help="the same as --runtime compile")
    p.add_argument("--backend", help="force srkit's op backend (triton, cuda, cpp, torch); default: best available")


def _onnx(label: str, path: str, scale: int | None, args: argparse.Namespace) -> tuple[str, UpscaleFn, int]:
    """An exported model (``srkit export``), run by ONNX Runtime on the CPU and padded, tiled and
    cropped by :class:`Upscaler` from the size needs its metadata records."""
    from ..export import OnnxModel

    if not Path(path).is_file():
        raise UsageError(f"--model {path!r}: no such ONNX file")
    if args.compile:
        raise UsageError(f"{path}: --compile applies to PyTorch models, not to an ONNX file")
    model = OnnxModel(path)
    if scale is not None and scale != model.scale:
        raise UsageError(f"{path} was exported for x{model.scale}, not x{scale}")
    up = Upscaler(model, device="cpu", tile=args.tile, overlap=args.overlap)
    return label or Path(path).stem, lambda lr, s: up(lr), model.scale


def resolve(
    spec: str,
    scale: int | None,
    args: argparse.Namespace,
    weights: str | None = None,
    work: tuple[tuple[int, int] | None, int] = (None, 1),
) -> tuple[str, UpscaleFn, int | None]:
    """(label, upscale function, the model's scale or None for bicubic); ``work``: (LR size, number
    of images) of what it will upscale, which the default runtime is chosen for."""
    label, _, path = spec.partition("=") if "=" in spec else ("", "", spec)
    if path == "bicubic":
        return label or "bicubic", bicubic_sr, None
    if path.endswith(".onnx"):
        return _onnx(label, path, scale, args)
    if weights is None and not Path(path).is_file() and path not in hub.OFFICIAL:
        if path in list_models():
            raise UsageError(
                f"{path}: a zoo name needs weights to evaluate or upscale (add --weights FILE); "
                f"an untrained {path} = create_model('{path}', scale={scale or 4}) would give noise"
            )
        raise UsageError(
            f"--model {path!r}: no such checkpoint file, and not 'bicubic', a zoo name "
            "or an official checkpoint's name (`srkit weights` lists them)"
        )
    if weights is not None and path not in list_models():
        raise UsageError(f"unknown zoo model {path!r}; srkit models: {', '.join(list_models())}")
    model = load(weights, scale=scale, arch=path) if weights is not None else load(path, scale=scale)
    name = label or Path(path).stem
    try:
        up, choice = rt.upscaler(
            model,
            runtime_of(args),
            device=args.device,
            dtype=DTYPES[args.dtype],
            tile=args.tile,
            overlap=args.overlap,
            size=work[0],
            images=work[1],
        )
    except ValueError as e:
        raise UsageError(f"{name}: {e}") from None
    print(f"{name}: {choice.line()}", file=sys.stderr)
    return name, lambda lr, s: up(lr), int(model.scale)


def runtime_of(args: argparse.Namespace) -> str:
    """--runtime, with --channels-last and --compile as its older spellings (a contradiction refused)."""
    forced = [r for r, flag in (("channels_last", args.channels_last), ("compile", args.compile)) if flag]
    if len(forced) > 1 or (forced and args.runtime not in ("auto", forced[0])):
        raise UsageError(f"--runtime {args.runtime} contradicts --{forced[0].replace('_', '-')}")
    return forced[0] if forced else args.runtime
