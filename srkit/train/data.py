"""Training patches: paired folders, HR-only folders degraded with the MATLAB-compatible bicubic, or
the photographs shipped in scikit-image. Images are decoded (and degraded) once and kept in memory.

Batch ``i`` is a pure function of (seed, i): crops and augmentations are drawn from a generator
seeded by both, so a resumed run sees exactly the batches the uninterrupted run would have. Under
DDP, rank ``r`` of ``w`` takes the ``r``-th of ``w`` equal slices of that same batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import IterableDataset, get_worker_info

from ..data.color import rgb_to_y
from ..data.folders import DatasetError
from ..evaluate import dataset
from ..models.blocks import DIV2K_RGB_MEAN

Pair = tuple[str, torch.Tensor, torch.Tensor]  # (name, HR, LR), uint8


def load_pairs(data: str, scale: int, split: str = "train") -> list[Pair]:
    """(name, HR cropped to LR x scale, LR) uint8, decoded once: a folder, or 'skimage' (its ``split``)."""
    return list(dataset(data, scale, split))


def holdout_split(pairs: list[Pair], every: int) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, held-out pairs): every ``every``-th image (the first, then each n-th) held out;
    ``every`` 0 holds none out. Too few images for it is an error naming both numbers."""
    if not every:
        return pairs, []
    if every < 2 or len(pairs) < every:
        raise ValueError(f"holdout {every}: needs 2 <= holdout <= the {len(pairs)} training images")
    return [p for i, p in enumerate(pairs) if i % every], pairs[::every]


def to_model_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 RGB/grey (..., C, H, W) -> float [0, 1] with the model's channel count (1: MATLAB luma)."""
    if channels == x.shape[-3]:
        return x.float() / 255.0
    if channels == 1:
        return ((rgb_to_y(x) - 16.0) / 219.0).float() if x.shape[-3] == 3 else x.float() / 255.0
    return (x.float() / 255.0).expand(*x.shape[:-3], channels, *x.shape[-2:])


class PatchBatches(IterableDataset):
    """Yields (iteration, lr, hr) float batches for iterations ``start .. stop - 1``."""

    def __init__(
        self,
        pairs: list[tuple[str, torch.Tensor, torch.Tensor]],
        scale: int,
        patch: int,
        batch: int,
        channels: int,
        seed: int,
        flips: bool = True,
        rot90: bool = True,
        start: int = 0,
        stop: int = 1,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        self.pairs = [(lr, hr) for _, hr, lr in pairs if min(lr.shape[1:]) * scale >= patch]
        if not self.pairs:
            largest = max((min(hr.shape[1:]) for _, hr, _ in pairs), default=0)
            raise DatasetError(
                f"data.patch {patch}: no training image is at least {patch} pixels (HR) on its short side "
                f"(the largest short side is {largest}); choose a smaller patch"
            )
        self.scale, self.patch, self.batch, self.channels = scale, patch, batch, channels
        self.seed, self.flips, self.rot90 = seed, flips, rot90
        self.start, self.stop = start, stop
        if batch % world:
            raise ValueError(f"data.batch {batch} does not split evenly over {world} processes")
        self.mine = range(rank * batch // world, (rank + 1) * batch // world)

    def make(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        p, s = self.patch // self.scale, self.scale
        lrs, hrs = [], []
        for j in range(self.batch):  # every rank draws the whole batch's crops, then cuts out its own
            lr, hr = self.pairs[int(torch.randint(len(self.pairs), (1,), generator=g))]
            y = int(torch.randint(lr.shape[1] - p + 1, (1,), generator=g))
            x = int(torch.randint(lr.shape[2] - p + 1, (1,), generator=g))
            flip_h, flip_v, k = torch.randint(2, (3,), generator=g).tolist()
            if j not in self.mine:
                continue
            a, b = lr[:, y : y + p, x : x + p], hr[:, y * s : (y + p) * s, x * s : (x + p) * s]
            if self.flips and flip_h:
                a, b = a.flip(-1), b.flip(-1)
            if self.flips and flip_v:
                a, b = a.flip(-2), b.flip(-2)
            if self.rot90 and k:
                a, b = a.rot90(1, (-2, -1)), b.rot90(1, (-2, -1))
            lrs.append(a)
            hrs.append(b)
        # each crop to the model's channels first: a folder may mix colour and grey images
        return (
            torch.stack([to_model_channels(x, self.channels) for x in lrs]),
            torch.stack([to_model_channels(x, self.channels) for x in hrs]),
        )

    def __iter__(self) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        for i in range(self.start + wid, self.stop, nw):
            yield (i, *self.make(i))


def rgb_mean(spec: str, pairs: list[tuple[str, torch.Tensor, torch.Tensor]], channels: int) -> list[float] | None:
    """The per-channel mean that ``data.rgb_mean`` asks for ([0, 1] units), or None for 'none'."""
    if spec == "none":
        return None
    if spec == "div2k":
        values = list(DIV2K_RGB_MEAN)
    elif spec == "data":  # every training pixel counts once
        total = sum(to_model_channels(hr, channels).double().sum(dim=(-2, -1)) for _, hr, _ in pairs)
        count = sum(hr.shape[-2] * hr.shape[-1] for _, hr, _ in pairs)
        return [float(v) for v in total / count]  # type: ignore[union-attr]
    else:
        values = [float(v) for v in spec.split(",")]
    if channels == 1 and len(values) == 3:
        values = [(float(rgb_to_y(torch.tensor(values).view(3, 1, 1)).item()) - 16.0) / 219.0]
    if len(values) != channels:
        raise ValueError(f"data.rgb_mean {spec!r}: {len(values)} values for a {channels}-channel model")
    return values
