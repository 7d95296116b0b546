"""What ``srkit-bench ops`` times: one :class:`OpCase` per op, shape and dtype.

A case is a call of srkit's public API on fixed inputs, with its FLOPs and its compulsory bytes
(read each input once, write each output once: the roofline floor). The same call runs as PyTorch
eager and under ``torch.compile`` inside :func:`srkit.ops.plain_torch` (the ops as inline PyTorch),
and on each of srkit's backends; its float64 ground truth is the same call on float64 copies of
the inputs in plain PyTorch.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import metrics, ops
from ..nn import ContrastChannelAttention, WideActBlockA, WideActBlockB, scaled_conv1x1

OPS = (
    "pixel_shuffle",
    "upsample_tail",
    "psnr",
    "ssim",
    "cca",
    "attention_scale",
    "conv_epilogue",
    "wdsr_a",
    "wdsr_a_fused",
    "wdsr_b",
)


@dataclass
class OpCase:
    op: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    detail: str
    inputs: list[Any]
    fn: Callable[..., torch.Tensor]
    flops: float
    nbytes: float
    exact: bool = False  # layout-only ops: bit-exact against PyTorch
    tol: float = 1e-4
    module: torch.nn.Module | None = None  # when fn closes over a module, its float64 twin is made from it
    fn64: Callable[..., torch.Tensor] | None = field(default=None, repr=False)
    compute_dtype: torch.dtype | None = None  # the arithmetic's dtype, for the roofline (default: dtype)

    def reference(self) -> torch.Tensor:
        """The float64 ground truth, in plain PyTorch."""
        args = [t.double() if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in self.inputs]
        with torch.no_grad(), ops.plain_torch():
            return (self.fn64 or self.fn)(*args).double()


def _tol(dtype: torch.dtype) -> float:
    return {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 6e-2}.get(dtype, 0.0)


_shape_device: contextvars.ContextVar[str | None] = contextvars.ContextVar("shape_device", default=None)


@contextlib.contextmanager
def shapes_of(device: str) -> Iterator[None]:
    """Build the cases that ``device`` would time, whatever device their tensors go to (the
    compile gate records a GPU's launches from CPU tensors)."""
    token = _shape_device.set(device)
    try:
        yield
    finally:
        _shape_device.reset(token)


def _on_cpu(device: str) -> bool:
    return (_shape_device.get() or device) == "cpu"


def _shapes(device: str, quick: bool, cpu: list[Any], cpu_full: list[Any], gpu: list[Any]) -> list[Any]:
    return (cpu + ([] if quick else cpu_full)) if _on_cpu(device) else gpu


def pixel_shuffle(device: str, quick: bool) -> list[OpCase]:
    out = []
    for shape, r, dtype in _shapes(
        device,
        quick,
        [((1, 48, 180, 320), 4, torch.float32)],
        [((4, 12, 360, 640), 2, torch.uint8)],
        [
            ((16, 48, 360, 640), 4, torch.float16),
            ((16, 48, 360, 640), 4, torch.float32),
            ((1, 12, 1080, 1920), 2, torch.uint8),
        ],
    ):
        x = (torch.rand(shape, device=device) * 255).to(dtype)
        out.append(
            OpCase(
                "pixel_shuffle",
                shape,
                dtype,
                f"r={r}",
                [x],
                lambda t, r=r: ops.pixel_shuffle(t, r),
                0.0,
                2 * x.numel() * x.element_size(),
                exact=True,
            )
        )
    return out


def upsample_tail(device: str, quick: bool) -> list[OpCase]:
    out = []
    for shape, r, dtype in _shapes(
        device,
        quick,
        [((1, 48, 270, 480), 4, torch.float32)],
        [],
        [
            ((16, 48, 270, 480), 4, torch.float16),
            ((16, 48, 270, 480), 4, torch.bfloat16),
            ((1, 48, 540, 960), 4, torch.float32),
        ],
    ):
        n, c, h, w = shape
        x = torch.rand(shape, device=device).to(dtype)
        skip = torch.rand((n, c // (r * r), h * r, w * r), device=device).to(dtype)
        mean = torch.tensor([0.4488, 0.4371, 0.4040], device=device)

        def fn(x: torch.Tensor, skip: torch.Tensor, r: int = r, mean: torch.Tensor = mean) -> torch.Tensor:
            return ops.upsample_tail(x, r, skip=skip, mean=mean, clamp=(0.0, 1.0))

        out.append(
            OpCase(
                "upsample_tail",
                shape,
                dtype,
                f"r={r}, +skip +mean, clamp",
                [x, skip],
                fn,
                3.0 * skip.numel(),
                3 * skip.numel() * skip.element_size(),
                tol=max(_tol(dtype), 1e-6),
            )
        )
    return out


def _images(device: str, n: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    hr = torch.randint(0, 256, (n, 3, h, w), generator=g, dtype=torch.uint8)
    sr = (
        (hr.to(torch.int16) + torch.randint(-8, 9, hr.shape, generator=g, dtype=torch.int16))
        .clamp(0, 255)
        .to(torch.uint8)
    )
    return sr.to(device), hr.to(device)


def _metric(
    op: str, device: str, n: int, detail: str, fn: Callable[..., torch.Tensor], flops_per_pixel: float, tol: float
) -> list[OpCase]:
    h, w = (512, 512) if _on_cpu(device) else (2160, 3840)
    n = 8 if _on_cpu(device) else n
    sr, hr = _images(device, n, h, w)
    return [
        OpCase(
            op,
            tuple(sr.shape),
            torch.uint8,
            detail,
            [sr, hr],
            fn,
            flops_per_pixel * n * h * w,
            2 * sr.numel(),
            tol=tol,
            compute_dtype=torch.float64,
        )
    ]


def psnr(device: str, quick: bool) -> list[OpCase]:
    # per pixel: two luma conversions (5 flops each), difference, square, accumulate
    return _metric("psnr", device, 16, "Y, shave 4", lambda a, b: metrics.psnr(a, b, y_only=True, shave=4), 13.0, 1e-12)


def ssim(device: str, quick: bool) -> list[OpCase]:
    # per pixel: luma x2, three products, five 11-tap separable filters (2 x 11 x 2 flops each), the formula
    return _metric(
        "ssim",
        device,
        4,
        "Y, shave 4, 11x11 Gaussian",
        lambda a, b: metrics.ssim(a, b, y_only=True, shave=4),
        258.0,
        1e-9,
    )


class _CCAFusion(torch.nn.Module):
    """IMDN's path through its CCA: the contrast statistics and MLP, the scaling folded into the
    block's 1x1 fusion (:func:`srkit.nn.scaled_conv1x1`)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.cca = ContrastChannelAttention(channels)
        self.fuse = torch.nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scaled_conv1x1(x, self.cca.attention(x), self.fuse)


def _attention_shapes(device: str, quick: bool) -> list[tuple[tuple[int, int, int, int], torch.dtype]]:
    return _shapes(
        device,
        quick,
        [((1, 64, 360, 640), torch.float32)],
        [],
        [((16, 64, 360, 640), torch.bfloat16), ((1, 64, 540, 960), torch.float16)],
    )


def cca(device: str, quick: bool) -> list[OpCase]:
    """IMDN's CCA as IMDN runs it: channel_stats, the MLP, and the scaling folded into the 1x1 fusion."""
    return [
        _block_case(
            "cca", _CCAFusion(s[1]), s, dt, device, (3.0 + 2 * s[1]) * s[1], "mean+std -> MLP -> scale in the fusion"
        )
        for s, dt in _attention_shapes(device, quick)
    ]


def attention_scale(device: str, quick: bool) -> list[OpCase]:
    """Channel attention as a layer of its own (RCAN's, the search's attended blocks): the statistics,
    then the MLP and the scaling in one op."""
    return [
        _block_case(
            "attention_scale", ContrastChannelAttention(s[1]), s, dt, device, 5.0 * s[1], "mean+std -> MLP -> scale"
        )
        for s, dt in _attention_shapes(device, quick)
    ]


def _block_shapes(device: str, quick: bool) -> list[tuple[tuple[int, int, int, int], torch.dtype]]:
    return _shapes(
        device,
        quick,
        [((1, 32, 90, 160), torch.float32)],
        [],
        [
            ((1, 32, 180, 320), torch.bfloat16),
            ((16, 32, 360, 640), torch.bfloat16),
            ((1, 64, 540, 960), torch.bfloat16),
        ],
    )


def _block_case(
    op: str,
    block: torch.nn.Module,
    shape: tuple[int, int, int, int],
    dtype: torch.dtype,
    device: str,
    flops_per_pixel: float,
    detail: str,
) -> OpCase:
    n, c, h, w = shape
    m = block.to(device=device, dtype=dtype).eval()
    m64 = copy.deepcopy(m).double()
    x = torch.randn(shape, device=device).to(dtype)
    return OpCase(
        op,
        shape,
        dtype,
        detail,
        [x],
        m,
        flops_per_pixel * n * h * w,
        2 * x.numel() * x.element_size(),
        tol=max(_tol(dtype), 1e-4),
        module=m,
        fn64=m64,
    )


def conv_epilogue(device: str, quick: bool) -> list[OpCase]:
    """A residual 3x3 conv, C -> C with bias, res_scale and the residual add fused (WDSR's last conv)."""
    out = []
    for shape, dtype in _block_shapes(device, quick):
        n, c, h, w = shape
        x = torch.randn(shape, device=device).to(dtype)
        wt = (torch.randn(c, c, 3, 3, device=device) / (9 * c) ** 0.5).to(dtype)
        b = (torch.randn(c, device=device) * 0.1).to(dtype)

        def fn(x: torch.Tensor, wt: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return ops.conv_epilogue(x, wt, b, residual=x, res_scale=0.5)

        out.append(
            OpCase(
                "conv_epilogue",
                shape,
                dtype,
                "3x3, bias + 0.5 x + residual",
                [x, wt, b],
                fn,
                2.0 * c * c * 9 * n * h * w + 3 * x.numel(),
                2 * x.numel() * x.element_size(),
                tol=max(_tol(dtype), 1e-4),
            )
        )
    return out


def wdsr_b(device: str, quick: bool) -> list[OpCase]:
    out = []
    for shape, dtype in _block_shapes(device, quick):
        c = shape[1]
        e, lr = 6 * c, int(c * 0.8)
        b = WideActBlockB(c, expansion=6, low_rank=0.8, weight_norm=False)
        out.append(
            _block_case(
                "wdsr_b",
                b,
                shape,
                dtype,
                device,
                2.0 * (c * e + e * lr + lr * c * 9) + 2 * c,
                "x6 wide, 0.8 low rank, 3x3",
            )
        )
    return out


def wdsr_a(device: str, quick: bool) -> list[OpCase]:
    out = []
    for shape, dtype in _block_shapes(device, quick):
        c = shape[1]
        b = WideActBlockA(c, expansion=4, weight_norm=False)
        out.append(_block_case("wdsr_a", b, shape, dtype, device, 2.0 * (2 * c * 4 * c * 9) + 2 * c, "x4 wide, 3x3"))
    return out


def wdsr_a_fused(device: str, quick: bool) -> list[OpCase]:
    """The same block as ``wdsr_a``, run as one kernel with halo recomputation (``fused=True``)."""
    out = []
    for shape, dtype in _block_shapes(device, quick):
        c = shape[1]
        b = WideActBlockA(c, expansion=4, weight_norm=False, fused=True)
        out.append(
            _block_case(
                "wdsr_a_fused", b, shape, dtype, device, 2.0 * (2 * c * 4 * c * 9) + 2 * c, "x4 wide, 3x3, one kernel"
            )
        )
    return out


BUILDERS: dict[str, Callable[[str, bool], list[OpCase]]] = {
    "pixel_shuffle": pixel_shuffle,
    "upsample_tail": upsample_tail,
    "psnr": psnr,
    "ssim": ssim,
    "cca": cca,
    "attention_scale": attention_scale,
    "conv_epilogue": conv_epilogue,
    "wdsr_a": wdsr_a,
    "wdsr_a_fused": wdsr_a_fused,
    "wdsr_b": wdsr_b,
}


# every declared op by its own name -> the case that times it (its OpSpec's timed_in): an op of a
# block (CCA's statistics, WDSR's pointwise pair) is timed inside its block's case
TIMED_IN = {name: spec.timed_in for name, spec in ops.dispatch.specs().items() if spec.timed_in != name}
NAMES = tuple(sorted(set(OPS) | set(TIMED_IN)))  # what `srkit-bench ops --only` accepts


def resolve(names: Sequence[str]) -> list[str]:
    """Case names for op or case names (an op of a block names its block's case)."""
    unknown = [o for o in names if o not in NAMES]
    if unknown:
        raise ValueError(f"srkit-bench ops: unknown op(s) {unknown}; choose from {', '.join(NAMES)}")
    return list(dict.fromkeys(TIMED_IN.get(o, o) for o in names))


def cases(device: str, quick: bool, only: Sequence[str] | None = None) -> list[OpCase]:
    chosen = resolve(only) if only else list(OPS)
    return [c for name in OPS if name in chosen for c in BUILDERS[name](device, quick)]
