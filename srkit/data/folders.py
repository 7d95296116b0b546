"""Benchmark-style dataset folders: ``HR/`` plus optional ``LR_bicubic/X<s>/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .io import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Pair:
    name: str
    hr: Path
    lr: Path | None  # None: make LR from HR with the MATLAB-compatible resize


class DatasetError(ValueError):
    """A dataset folder whose files do not fit together (an LR file of the wrong size for the scale)."""


def find_pairs(root: str | Path, scale: int) -> list[Pair]:
    """The HR images of ``root/HR`` with their ``root/LR_bicubic/X<scale>`` partners when present.

    LR files are matched by stem, as ``<stem>x<scale>.<ext>`` (DIV2K, Set5 releases) or ``<stem>.<ext>``.
    """
    root = Path(root)
    hr_dir = root / "HR" if (root / "HR").is_dir() else root
    files = sorted(p for p in hr_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{hr_dir}: no images found (expected HR/ with {', '.join(IMAGE_SUFFIXES)} files)")
    lr_dir = root / "LR_bicubic" / f"X{scale}"
    lr_files = (
        {p.stem.lower(): p for p in lr_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES} if lr_dir.is_dir() else {}
    )
    pairs = []
    for f in files:
        lr = lr_files.get(f"{f.stem}x{scale}".lower()) or lr_files.get(f.stem.lower())
        if lr_files and lr is None:
            raise FileNotFoundError(f"{lr_dir}: no LR partner for {f.name}")
        pairs.append(Pair(f.stem, f, lr))
    orphans = sorted(set(lr_files.values()) - {p.lr for p in pairs})
    if orphans:  # scoring the pairs alone would report a mean over fewer images than the folder holds
        more = f" and {len(orphans) - 1} more" if len(orphans) > 1 else ""
        raise DatasetError(f"{lr_dir}: {orphans[0].name}{more} has no HR partner in {hr_dir}")
    return pairs
