"""Reading and writing images as (C, H, W) uint8 tensors."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import atomic

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


class ImageReadError(ValueError):
    """An image file that cannot be used, with the reason."""


def _refuse_unsupported(im: Image.Image, p: Path) -> None:
    """16-bit and float images, which Pillow would cut to 8 bits without a word (16-bit RGB/RGBA PNGs
    open as plain RGB), and files of several frames, of which only the first would be read."""
    raw = "".join(str(t[3]) for t in getattr(im, "tile", []) or [])  # e.g. 'RGB;16B' before load()
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F") or ";16" in raw:
        raise ImageReadError(
            f"{p}: {im.mode} {'16-bit' if ';16' in raw or '16' in im.mode else 'float or 32-bit'} images "
            "are not supported (srkit reads 8-bit images); convert to 8-bit first"
        )
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        raise ImageReadError(
            f"{p}: the file holds {frames} frames (animation or multi-page); srkit reads single "
            "images: extract the frames first"
        )


def image_size(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(h, w) as :func:`read_image` would give it, from the file's header alone; None if unreadable
    (reading it says why)."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            turned = im.getexif().get(0x0112) in (5, 6, 7, 8)  # EXIF orientations that swap the sides
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None
    return (w, h) if turned else (h, w)


def read_image(path: str | os.PathLike[str], *, alpha: str = "error") -> torch.Tensor:
    """Read an 8-bit RGB or grey image as a (3 or 1, H, W) uint8 tensor.

    ``alpha="drop"`` drops the alpha channel of RGBA / LA images and ``alpha="keep"`` returns it as
    a last channel (4 or 2 channels); the default refuses them, since a super-resolved alpha channel
    is not what a user expects by accident. 16-bit images are refused with a clear message rather
    than silently truncated.
    """
    p = Path(path)
    try:
        with Image.open(p) as im:
            _refuse_unsupported(im, p)
            im.load()
            im = ImageOps.exif_transpose(im)  # the orientation a viewer shows, as the camera recorded it
            mode = im.mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
                if alpha not in ("drop", "keep"):
                    raise ImageReadError(
                        f"{p}: the image has an alpha channel; pass alpha='drop' to ignore it "
                        "or alpha='keep' to keep it"
                    )
                grey = mode == "LA"
                im = im.convert(("L" if grey else "RGB") + ("A" if alpha == "keep" else ""))
            elif mode not in ("RGB", "L"):
                im = im.convert("RGB")
            arr = np.asarray(im)
    except Image.DecompressionBombError as e:  # a header declaring more pixels than memory should take
        raise ImageReadError(f"{p}: declares an image too large to read safely ({e})") from e
    except (UnidentifiedImageError, OSError, MemoryError) as e:
        raise ImageReadError(f"{p}: not a readable image ({e})") from e
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())  # PIL's array is read-only: one writable CHW copy


def write_image(path: str | os.PathLike[str], x: torch.Tensor) -> None:
    """Write a (C, H, W) uint8 tensor atomically (temporary file, then rename): C = 1 (grey), 2 (grey
    + alpha), 3 (RGB) or 4 (RGBA)."""
    if x.dtype != torch.uint8 or x.dim() != 3 or x.shape[0] not in (1, 2, 3, 4):
        raise ValueError(f"srkit.data.write_image: expected a (1-4, H, W) uint8 tensor, got {x.dtype} {tuple(x.shape)}")
    p = Path(path)
    arr = x.permute(1, 2, 0).cpu().numpy()
    buf = io.BytesIO()
    Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(
        buf, format=Image.registered_extensions().get(p.suffix.lower(), "PNG")
    )
    atomic.write_bytes(p, buf.getvalue())
