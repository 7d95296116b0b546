"""What several srkit-search subcommands share: the run folder's options and claim, the data folders."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import UsageError


def folder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")


def runtime_arg(p: argparse.ArgumentParser, owner: object) -> None:
    from srkit.search.latency import LATENCY_RUNTIMES

    from ..args import default

    p.add_argument(
        "--latency-runtime",
        choices=LATENCY_RUNTIMES,
        help="time candidates on PyTorch with srkit's ops (NCHW or channels_last), on ONNX Runtime "
        "(srkit[onnx]), or auto: the fastest of those, the runtime srkit upscale ships each on "
        + default(owner, "latency_runtime"),
    )


def owned(args: argparse.Namespace):  # a context manager
    """The run folder, locked for this search and checked: a folder holding a search is refused
    unless --resume continues it or --overwrite replaces it."""
    from srkit.search.runlog import RUN_FILES
    from srkit.train.runfolder import claim

    return claim(Path(args.out), resume=args.resume, overwrite=args.overwrite, files=RUN_FILES, kind="search")


def data(folders: list[str] | str | None) -> str | None:
    """--data's folders as one dataset string (PATH-style), each checked; or 'skimage'; None if not given."""
    if folders is None:
        return None
    folders = [folders] if isinstance(folders, str) else folders
    if folders == ["skimage"]:
        return "skimage"
    return os.pathsep.join(folder(f) for f in folders)


def folder(path: str) -> str:
    if not Path(path).is_dir():
        raise UsageError(f"{path}: not a folder (give HR/ [+ LR_bicubic/X<s>/])")
    return str(Path(path).resolve())


def blocks_in_order(args: argparse.Namespace) -> None:
    """--min-blocks above --max-blocks, both given, refused in argparse's line (one left out: the
    space's own check, against its default)."""
    from ..args import check_order

    if args.min_blocks is not None and args.max_blocks is not None:
        check_order(args.parser, ("--min-blocks", args.min_blocks), ("--max-blocks", args.max_blocks))


def official_files(items: list[str]) -> dict[str, str]:
    """``--official LABEL=FILE ...`` as label -> file, each file checked to exist."""
    out = {}
    for item in items:
        label, eq, path = item.partition("=")
        if not eq or not label or not path:
            raise UsageError(f"--official {item!r}: expected LABEL=FILE")
        if not Path(path).is_file():
            raise UsageError(f"--official {item!r}: no such checkpoint file")
        out[label] = path
    return out
