"""Scoring an upscaler on a dataset with the standard protocol (MATLAB-bicubic LR, Y PSNR/SSIM, shave)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .data import photos
from .data.degrade import bicubic_lr
from .data.folders import DatasetError, find_pairs
from .data.io import image_size, read_image
from .metrics.protocol import sr_scores

UpscaleFn = Callable[[torch.Tensor, int], torch.Tensor]  # ((N, C, h, w) uint8 LR, scale) -> (N, C, h s, w s) uint8


@dataclass(frozen=True)
class ImageScore:
    name: str
    psnr: float
    ssim: float


def dataset(data: str, scale: int, split: str = "valid") -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, HR cropped to LR x scale, LR) for a folder (HR/ [+ LR_bicubic/X<s>/]), several joined
    by ``os.pathsep``, or ``skimage`` (its ``split``: 'train' or 'valid' photographs)."""
    if data == "skimage":
        for name, hr in photos.photos(split).items():
            lr = bicubic_lr(hr, scale)
            yield name, hr[:, : lr.shape[1] * scale, : lr.shape[2] * scale], lr
        return
    folders = _folders(data)
    for folder in folders:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"{folder}: not a folder (give HR/ [+ LR_bicubic/X<s>/], or 'skimage')")
    for folder in folders:
        yield from _folder(folder, scale)


def _folders(data: str) -> list[str]:
    """Several folders, PATH-style (T91:BSDS200), are one set in that order."""
    return data.split(os.pathsep) if not Path(data).is_dir() else [data]


def work_of(data: str, scale: int) -> tuple[tuple[int, int] | None, int]:
    """(LR size of the first image or None, number of images) of :func:`dataset`'s validation
    images, from the files' headers: the work the default runtime is chosen for. A folder that does
    not read gives (None, 1); evaluating it says why."""
    if data == "skimage":
        hrs = list(photos.photos("valid").values())
        return (hrs[0].shape[1] // scale, hrs[0].shape[2] // scale), len(hrs)
    try:
        pairs = [p for f in _folders(data) for p in find_pairs(f, scale)]
    except (OSError, DatasetError, ValueError):
        return None, 1
    hw = image_size(pairs[0].lr or pairs[0].hr) if pairs else None
    if hw is not None and pairs[0].lr is None:
        hw = (hw[0] // scale, hw[1] // scale)
    return hw, max(1, len(pairs))


def _folder(data: str, scale: int) -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    for pair in find_pairs(data, scale):
        hr = read_image(pair.hr, alpha="drop")
        if min(hr.shape[1:]) < scale:
            raise DatasetError(
                f"{pair.hr}: {hr.shape[1]}x{hr.shape[2]} is smaller than the scale ({scale}): no LR image"
            )
        lr = read_image(pair.lr, alpha="drop") if pair.lr is not None else bicubic_lr(hr, scale)
        if lr.shape[0] != hr.shape[0]:
            kinds = {1: "grey", 3: "colour"}
            raise DatasetError(
                f"{pair.lr}: LR is {kinds[lr.shape[0]]} but its HR {pair.hr.name} is {kinds[hr.shape[0]]}: not a pair"
            )
        want = (hr.shape[1] // scale, hr.shape[2] // scale)  # LR = imresize(modcrop(HR, s), 1 / s)
        if tuple(lr.shape[1:]) != want:
            raise DatasetError(
                f"{pair.lr}: LR is {lr.shape[1]}x{lr.shape[2]} (h x w), but its HR {pair.hr.name} "
                f"({hr.shape[1]}x{hr.shape[2]}) at x{scale} needs {want[0]}x{want[1]}: a file for another "
                "scale, or made another way"
            )
        h, w = lr.shape[1] * scale, lr.shape[2] * scale
        yield pair.name, hr[:, :h, :w], lr  # the ground truth is the top-left crop HR[:h_lr s, :w_lr s]


def score(
    upscale: UpscaleFn, pairs: Iterable[tuple[str, torch.Tensor, torch.Tensor]], scale: int, device: str = "cpu"
) -> list[ImageScore]:
    """Protocol scores of ``upscale`` on (name, HR, LR) pairs, e.g. from :func:`dataset` or kept in memory."""
    scores = []
    for name, hr, lr in pairs:
        sr = upscale(lr[None].to(device), scale)
        p, s = sr_scores(sr, hr[None].to(device), scale)
        scores.append(ImageScore(name, float(p[0]), float(s[0])))
    return scores


def evaluate(upscale: UpscaleFn, data: str, scale: int, device: str = "cpu") -> list[ImageScore]:
    """Protocol scores of ``upscale`` on a dataset folder or 'skimage'."""
    return score(upscale, dataset(data, scale), scale, device)


def summary(scores: list[ImageScore]) -> dict[str, object]:
    n = max(len(scores), 1)
    return {
        "mean_psnr": sum(s.psnr for s in scores) / n,
        "mean_ssim": sum(s.ssim for s in scores) / n,
        "images": [asdict(s) for s in scores],
    }
