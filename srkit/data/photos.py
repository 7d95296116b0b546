"""The embedded default data: photographs shipped inside scikit-image (no download needed)."""

from __future__ import annotations

import numpy as np
import torch

TRAIN = ("astronaut", "rocket", "hubble_deep_field", "immunohistochemistry", "motorcycle_left", "retina")
VALID = ("chelsea", "coffee", "motorcycle_right")


def load_photo(name: str) -> torch.Tensor:
    """One photograph as a (3, H, W) uint8 tensor."""
    import skimage.data as d  # imported on use: it is slow to import

    loaders = {
        "motorcycle_left": lambda: d.stereo_motorcycle()[0],
        "motorcycle_right": lambda: d.stereo_motorcycle()[1],
    }
    if name in loaders:
        arr = loaders[name]()
    elif name in TRAIN + VALID:
        arr = getattr(d, name)()
    else:
        raise ValueError(f"srkit.data.photos: unknown photo {name!r}; choose from {', '.join(TRAIN + VALID)}")
    return torch.from_numpy(np.ascontiguousarray(np.asarray(arr, dtype=np.uint8)[:, :, :3].transpose(2, 0, 1)))


def photos(split: str) -> dict[str, torch.Tensor]:
    """``split`` = "train" or "valid": name -> (3, H, W) uint8."""
    names = {"train": TRAIN, "valid": VALID}.get(split)
    if names is None:
        raise ValueError(f"srkit.data.photos: split must be 'train' or 'valid', got {split!r}")
    return {n: load_photo(n) for n in names}
