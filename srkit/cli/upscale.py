"""``srkit upscale``: super-resolve files, folders or globs with a model, optionally in tiles."""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import torch

from ..data.imresize import imresize
from ..data.io import IMAGE_SUFFIXES, ImageReadError, image_size, read_image, write_image
from .args import count
from .errors import UsageError
from .modelspec import add_model_args, backend_context, resolve


def expand_inputs(items: list[str]) -> list[Path]:
    """Files as given, folders' images (sorted), and glob patterns; an input that matches nothing is an error."""
    found: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found += sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True) if Path(m).is_file())
            if not matches:
                raise UsageError(f"{item!r} is not a file, a folder or a glob that matches files")
            found += matches
    return list(dict.fromkeys(found))


def upscale_image(img: torch.Tensor, up, scale: int) -> torch.Tensor:
    """(C, h, w) uint8 with C in 1..4: colour through the model, alpha (if any) by bicubic."""
    c = img.shape[0]
    colour, alpha = (img[: c - 1], img[c - 1 :]) if c in (2, 4) else (img, None)
    sr = up(colour[None], scale)[0]
    if alpha is None:
        return sr
    return torch.cat([sr, imresize(alpha, scale)], dim=0)


def plan_outputs(files: list[Path], out: Path, scale: int, overwrite: bool) -> list[Path]:
    """One output path per input, decided before anything is written: two inputs that would write
    the same file, an output folder that is a file, or (without ``overwrite``) existing outputs
    are refused with every case named."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"the output {out} exists and is not a folder")
    targets = [out / f"{f.stem}_x{scale}.png" for f in files]
    by_target: dict[Path, list[Path]] = {}
    for f, t in zip(files, targets, strict=True):
        by_target.setdefault(t, []).append(f)
    clashes = {t: fs for t, fs in by_target.items() if len(fs) > 1}
    if clashes:
        named = "; ".join(f"{t.name} <- {', '.join(map(str, fs))}" for t, fs in clashes.items())
        raise UsageError(f"inputs would overwrite each other's output ({named}); upscale them into separate folders")
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        shown = ", ".join(str(t) for t in existing[:5]) + (
            f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        )
        raise UsageError(f"{len(existing)} output(s) already exist ({shown}); pass --overwrite to replace them")
    return targets


def run_video(args: argparse.Namespace) -> int:
    """One video in, one video out (``-o`` names the file)."""
    from ..video import VideoJob, is_video, upscale_video, work_of

    if len(args.inputs) != 1:
        raise UsageError("upscale one video at a time: srkit upscale CLIP -o OUT.mp4 --model ...")
    if not Path(args.inputs[0]).is_file():
        raise UsageError(f"{args.inputs[0]}: no such video file")
    if not is_video(args.output):
        raise UsageError(f"-o {args.output}: for a video, name the output file (.mp4, .mkv, .mov, .webm, .avi)")
    label, up, model_scale = resolve(args.model, args.scale, args, args.weights, work_of(Path(args.inputs[0])))
    scale = model_scale or args.scale
    if scale is None:
        raise UsageError("bicubic needs --scale")
    job = VideoJob(Path(args.inputs[0]), Path(args.output), label, scale, args.batch, args.segment_frames)
    with backend_context(args.backend):
        done = upscale_video(job, lambda lr: up(lr, scale), overwrite=args.overwrite)
    reused = f" ({done['reused_segments']} segment(s) kept from an earlier run)" if done["reused_segments"] else ""
    print(f"upscaled {done['frames']} frame(s) into {job.dst}{reused}")
    return 0


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..video import is_video

    if any(is_video(i) for i in args.inputs):
        return run_video(args)
    files = expand_inputs(args.inputs)
    if not files:
        raise UsageError("no images to upscale")
    # the runtime is chosen for this work: the first image's size, every image
    label, up, model_scale = resolve(args.model, args.scale, args, args.weights, (image_size(files[0]), len(files)))
    scale = model_scale or args.scale
    if scale is None:
        raise UsageError("bicubic needs --scale")
    out = Path(args.output)
    mixed = [f for f in files if f.parent.resolve() == out.resolve()]
    if mixed:  # a rerun would take the outputs for inputs
        raise UsageError(f"-o {out} is where the inputs are ({mixed[0].name}...): choose another output folder")
    targets = plan_outputs(files, out, scale, args.overwrite)
    failed: list[str] = []
    with backend_context(args.backend):
        for f, target in tqdm(list(zip(files, targets, strict=True)), desc=f"{label} x{scale}", unit="img"):
            try:
                img = read_image(f, alpha="keep")
                write_image(target, upscale_image(img, up, scale))
            except (ImageReadError, ValueError, RuntimeError, OSError) as e:  # OSError: this file's write failed
                failed.append(f"{f}: {e}")
                tqdm.write(f"skipped {f}: {e}")
    print(f"upscaled {len(files) - len(failed)} of {len(files)} image(s) into {out}")
    for msg in failed:
        print(f"  failed: {msg}")
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upscale", help="super-resolve images (files, folders, globs) or a video with a model")
    p.add_argument("inputs", nargs="+", help="image files, folders or glob patterns; or one video file")
    p.add_argument("-o", "--output", required=True, help="output folder (<name>_x<s>.png); for a video, its file")
    p.add_argument("--scale", type=count(1), help="checked against the model's scale; needed for bicubic")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist (kept otherwise)")
    p.add_argument("--batch", type=count(1), default=4, help="video: frames per forward pass")
    p.add_argument(
        "--segment-frames", type=count(1), default=240, help="video: frames per segment (the unit a rerun resumes at)"
    )
    add_model_args(p)
    p.set_defaults(func=run)
