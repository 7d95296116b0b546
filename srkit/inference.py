"""Running a zoo model on images: colour handling, precision, layout and tiling.

:class:`Upscaler` maps uint8 LR images (N, C, h, w) to uint8 SR images, whatever the model's
channel count (Y-only models such as FSRCNN get the luma, with chroma upscaled by MATLAB-style
bicubic), optionally in tiles blended with linear ramps so that a large image never has to be on
the accelerator whole: the image and the output canvas stay in host memory and one tile at a time
goes to the device.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .data.color import rgb2ycbcr, ycbcr2rgb
from .data.imresize import imresize
from .devices import resolved
from .models.base import crop_output, input_needs, pad_input
from .ops import plain_torch

DTYPES = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "fp16": torch.float16,
    "float16": torch.float16,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
}


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``length`` with at least ``overlap`` shared."""
    if tile >= length:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(starts))


def ramp(length: int, lo_band: int, hi_band: int) -> torch.Tensor:
    """1-D blending weights: rising linearly over the first ``lo_band`` pixels and falling over the
    last ``hi_band`` (bands are where a neighbouring tile overlaps), 1 elsewhere, never 0."""
    w = torch.ones(length, dtype=torch.float32)
    if lo_band:
        w[:lo_band] = torch.arange(1, lo_band + 1, dtype=torch.float32) / (lo_band + 1)
    if hi_band:
        w[length - hi_band :] = torch.minimum(
            w[length - hi_band :], torch.arange(hi_band, 0, -1, dtype=torch.float32) / (hi_band + 1)
        )
    return w


@dataclass(frozen=True)
class Tile:
    y0: int
    x0: int
    h: int
    w: int
    weight: torch.Tensor  # (h * scale, w * scale) blending weights


def tiles(h: int, w: int, tile: int, overlap: int, scale: int) -> Iterator[Tile]:
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    for i, y0 in enumerate(ys):
        th = min(tile, h)
        top = (ys[i - 1] + th - y0) if i > 0 else 0
        bottom = (y0 + th - ys[i + 1]) if i + 1 < len(ys) else 0
        wy = ramp(th * scale, top * scale, bottom * scale)
        for j, x0 in enumerate(xs):
            tw = min(tile, w)
            left = (xs[j - 1] + tw - x0) if j > 0 else 0
            right = (x0 + tw - xs[j + 1]) if j + 1 < len(xs) else 0
            wx = ramp(tw * scale, left * scale, right * scale)
            yield Tile(y0, x0, th, tw, wy[:, None] * wx[None, :])


class TilingError(ValueError):
    """A tile or overlap the model cannot take; the message names the values and what is allowed."""


class NonFiniteOutput(ValueError):
    """The model's output holds NaN or infinite values for an input: no image is made of it."""


class Compiled(nn.Module):
    """``torch.compile`` of ``model`` in its plain PyTorch form: srkit's ops run inline
    (:func:`srkit.ops.plain_torch`), so the compiler sees and fuses them, where a custom op would be
    opaque to it. What the ``compile`` runtime runs, as ``srkit-bench``'s compile rows do."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.compiled = torch.compile(model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with plain_torch():
            return self.compiled(x)


class Upscaler:
    """``Upscaler(model)(lr_uint8) -> sr_uint8``.

    ``tile``: LR tile side (None: whole image); ``overlap``: LR pixels shared by neighbouring tiles
    (the blending band). ``dtype``: the model's precision. ``channels_last`` / ``compile``: layout and
    ``torch.compile`` (of its plain PyTorch form, :class:`Compiled`) for the model. The model itself is put in eval mode and moved to ``device``
    and ``dtype`` (not copied).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        tile: int | None = None,
        overlap: int = 16,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        fixed = getattr(model, "fixed_hw", None)  # a model that takes one input size (a static ONNX export)
        if fixed is not None and tile is None:  # runs in tiles of that size, padded up to it where short
            tile, overlap = min(fixed), min(overlap, min(fixed) // 4)
        if tile is not None and (tile < 1 or overlap < 0 or overlap >= tile):
            raise TilingError(f"Upscaler: need tile >= 1 and 0 <= overlap < tile, got tile={tile}, overlap={overlap}")
        self.min_size = input_needs(model)[0]  # smaller images are padded to it (tiles must reach it)
        if tile is not None and tile < self.min_size:
            raise TilingError(
                f"Upscaler: {type(model).__name__} needs inputs of at least {self.min_size} pixels; tile={tile}"
            )
        self.device = resolved(device)  # cuda as cuda:0: prepare moves nothing already there
        self.dtype = dtype
        _warn_if_unsafe(model, dtype)
        self.scale = int(model.scale)
        self.channels = int(getattr(model, "in_channels", 3))
        self.tile, self.overlap = tile, overlap
        self.channels_last = channels_last
        model = prepare(model, self.device, dtype, channels_last)
        self._needs = model  # the module that declares min_size / size_multiple (a compiled one may not)
        self._per_px = bytes_per_lr_pixel(model, self.scale, dtype)  # for the tile that fits memory
        self._cap: int | None = None  # the largest tile side an out-of-memory error left
        self.model: nn.Module = Compiled(model) if compile else model
        self.choice: Any = None  # the srkit.runtime.Choice that made this upscaler, where one did

    @classmethod
    def load(
        cls,
        source: str | os.PathLike[str],
        *,
        runtime: str = "auto",
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        scale: int | None = None,
        tile: int | None = None,
        overlap: int = 16,
        size: tuple[int, int] | None = None,
        images: int = 1,
    ) -> Upscaler:
        """A checkpoint file or an official checkpoint's name, on ``runtime``: by default the one
        of srkit's runtimes that does ``images`` LR images of about ``size`` (h, w) the soonest on this
        device (:mod:`srkit.runtime`: timed only where the work pays for timing, ONNX Runtime and
        ``compile`` tried only where it pays for their export and compile); ``.choice`` says which
        and why."""
        from . import runtime as rt
        from .models import load

        model = load(source, scale=scale)
        up, choice = rt.upscaler(
            model, runtime, device=device, dtype=dtype, tile=tile, overlap=overlap, size=size, images=images
        )
        up.choice = choice
        return up

    @torch.inference_mode()
    def run_float(self, x: torch.Tensor) -> torch.Tensor:
        """(N, model channels, h, w) float in [0, 1] on any device -> float32 SR on the CPU. Without a
        ``tile`` the image runs whole when the device's free memory allows, else in tiles that fit;
        an out-of-memory error is retried in tiles of half the side, with a warning."""
        while True:
            tile = self.tile if self.tile is not None else self._auto_tile(x)
            try:
                return self._run_tiles(x, tile)
            except (torch.OutOfMemoryError, RuntimeError) as e:
                smaller = self._smaller_tile(x, tile)
                if not _out_of_memory(e) or smaller is None:
                    raise
                warnings.warn(
                    f"Upscaler: out of memory with {f'tiles of {tile}' if tile else 'the whole image'}; "
                    f"retrying in tiles of {smaller} (LR pixels)",
                    stacklevel=3,
                )
                self._cap = smaller
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()

    def _run_tiles(self, x: torch.Tensor, tile: int | None) -> torch.Tensor:
        n, c, h, w = x.shape
        s = self.scale
        if tile is None or (h <= tile and w <= tile):
            return self.forward(x).float().cpu()
        out = torch.zeros(n, c, h * s, w * s)
        norm = torch.zeros(1, 1, h * s, w * s)
        overlap = self.overlap if self.tile is not None else min(self.overlap, tile // 4)  # auto tiles: a quarter
        for t in tiles(h, w, tile, overlap, s):
            y = self.forward(x[:, :, t.y0 : t.y0 + t.h, t.x0 : t.x0 + t.w]).float().cpu()
            out[:, :, t.y0 * s : (t.y0 + t.h) * s, t.x0 * s : (t.x0 + t.w) * s] += y * t.weight
            norm[:, :, t.y0 * s : (t.y0 + t.h) * s, t.x0 * s : (t.x0 + t.w) * s] += t.weight
        return out / norm

    def _auto_tile(self, x: torch.Tensor) -> int | None:
        """No tile when the whole image fits half the device's free memory (or a smaller side an
        out-of-memory error taught), else the square LR side that does."""
        n, _, h, w = x.shape
        budget = available_bytes(self.device) // 2
        side = int(math.sqrt(budget / (n * self._per_px)))
        side = side if self._cap is None else min(side, self._cap)
        return None if side >= max(h, w) else max(self.min_size, side)

    def _smaller_tile(self, x: torch.Tensor, tile: int | None) -> int | None:
        """Half the side that ran out of memory, or None when tiles cannot shrink further (or the
        user fixed the tile)."""
        if self.tile is not None:
            return None
        half = (tile or max(x.shape[-2:])) // 2
        return half if half >= max(self.min_size, 8) else None

    def run_finite(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`run_float`, whose output must be finite: a half-precision overflow is run again in
        float32 (from then on, with a warning); a float32 one is a :class:`NonFiniteOutput`."""
        sr = self.run_float(x)
        if torch.isfinite(sr).all():
            return sr
        if self.dtype != torch.float32:
            warnings.warn(
                f"Upscaler: the model's output overflowed in {self.dtype}; running in float32 from here on",
                stacklevel=3,
            )
            self.dtype = torch.float32
            self._needs.to(torch.float32)
            return self.run_finite(x)
        raise NonFiniteOutput(
            "the model's output holds NaN or infinite values for this image (float32): no image was written"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model on ``x`` (float, any device; the result stays on the model's device); an input the model cannot take as it is (below its minimum size, not
        a multiple it needs) is padded (edge pixels repeated), and the padding's share of the output
        is cropped off."""
        h, w = x.shape[-2:]
        x = pad_input(self._needs, x.to(self.device, self.dtype))
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return crop_output(self.model(x), (h, w), self.scale)

    def __call__(self, lr: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, h, w) or (C, h, w) with C = 1 or 3 -> uint8 SR of the same channel count."""
        if lr.dtype != torch.uint8:
            raise TypeError(f"Upscaler: expected uint8 images, got {lr.dtype}")
        single = lr.dim() == 3
        x = lr[None] if single else lr
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"Upscaler: expected (N, 1 or 3, h, w) images, got shape {tuple(lr.shape)}")
        img_c, mc = x.shape[1], self.channels
        xf = x.float() / 255.0
        if img_c == mc:
            sr = self.run_finite(xf)
        elif mc == 1:
            sr = luma_on_colour(xf, self.run_finite, self.scale)
        else:  # colour model on a grey image
            sr = self.run_finite(xf.expand(-1, mc, -1, -1)).mean(dim=1, keepdim=True)
        out = (sr * 255.0).round().clamp(0, 255).to(torch.uint8)
        return out[0] if single else out


def prepare(model: nn.Module, device: torch.device, dtype: torch.dtype, channels_last: bool = False) -> nn.Module:
    """``model.eval().to(device, dtype)``, and its 4-D tensors channels_last where asked, in place:
    each pass only where it changes something, the layout in one loop. ``Module.eval`` and
    ``Module.to`` walk every submodule in Python, and a first image pays for it: 0.14 s of RCAN's
    1.0 s (1,243 modules) on 2 CPU cores."""
    if any(m.training for m in model.modules()):
        model.eval()
    if any(t.device != device or (t.is_floating_point() and t.dtype != dtype) for t in _tensors(model)):
        model.to(device, dtype)
    if channels_last:
        _to_channels_last(model)
    return model


def _tensors(model: nn.Module) -> Iterator[torch.Tensor]:
    yield from model.parameters()
    yield from model.buffers()


def _to_channels_last(model: nn.Module) -> None:
    """What ``model.to(memory_format=torch.channels_last)`` does to its 4-D parameters and buffers,
    but for those of a module whose eval mode runs on weights derived from them (``derives_its_weights``,
    a re-parameterised convolution): their layout is never read, and converting SPAN's 2 M branch
    weights was the time by which its first image in NCHW beat channels_last."""
    cl = torch.channels_last
    derived = {id(s) for m in model.modules() if getattr(m, "derives_its_weights", False) for s in m.modules()}
    with torch.no_grad():
        for module in (m for m in model.modules() if id(m) not in derived):
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    # Tensor.to's own test (its suggested format), not is_contiguous: a weight with one
                    # input channel is both, and oneDNN picks the layout by the strides
                    new = t.to(memory_format=cl) if t is not None and t.dim() == 4 else t
                    if new is t:
                        continue
                    if isinstance(t, nn.Parameter):
                        t.data = new  # the same Parameter, as Module.to keeps it
                    else:
                        store[name] = new


def luma_on_colour(rgb: torch.Tensor, run: Callable[[torch.Tensor], torch.Tensor], scale: int) -> torch.Tensor:
    """A Y-only model on a colour image (float RGB in [0, 1]): the luma through ``run``, the chroma
    by MATLAB's bicubic, back to RGB. The colour work around the model is what a Y network costs on
    top of its own latency (the search times it so, like for like with RGB networks)."""
    ycc = rgb2ycbcr(rgb)
    y = run(ycc[:, :1])
    chroma = imresize(ycc[:, 1:].double(), scale).float()
    return ycbcr2rgb(torch.cat([y, chroma], dim=1).clamp(0, 1))


def available_bytes(device: torch.device) -> int:
    """Free memory on ``device``: CUDA's free bytes, else the host's available physical memory."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # a platform without sysconf: no limit known
        return 1 << 62


def bytes_per_lr_pixel(model: nn.Module, scale: int, dtype: torch.dtype) -> int:
    """A generous estimate of the memory one LR pixel costs in inference: a few live feature maps of
    the widest convolution, and the float32 output."""
    widest = max((m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)), default=64)
    return 6 * widest * torch.finfo(dtype).bits // 8 + 4 * 4 * scale * scale


def _out_of_memory(e: BaseException) -> bool:
    text = str(e)
    return isinstance(e, torch.OutOfMemoryError) or "out of memory" in text or "can't allocate memory" in text


def _warn_if_unsafe(model: nn.Module, dtype: torch.dtype) -> None:
    """One warning when ``model`` is run in a half precision its description says is not safe."""
    info = getattr(model, "info", None)
    name = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype)
    if info is None or name is None or getattr(info, name, True):
        return
    warnings.warn(f"Upscaler: {info.arch} is not safe in {name} ({info.precision})", stacklevel=3)
