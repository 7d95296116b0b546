"""Models built on srkit's ops compile with torch.compile(fullgraph=True): no graph break."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from srkit import metrics, ops
from srkit.nn import PixelUnshuffle, UpsampleTail


class TinySR(nn.Module):
    """x2: unshuffle by 2, a conv to 3 * 4^2 channels, then the fused tail (x4) with a bicubic-like skip."""

    def __init__(self) -> None:
        super().__init__()
        self.down = PixelUnshuffle(2)
        self.body = nn.Conv2d(12, 3 * 16, 3, padding=1)
        self.tail = UpsampleTail(4, mean=[0.1, 0.2, 0.3], clamp=(0.0, 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear")
        return self.tail(self.body(self.down(x)), skip=skip)


@pytest.mark.slow
def test_fullgraph_compile_forward_and_backward() -> None:
    torch.manual_seed(0)
    model = TinySR()
    x = torch.rand(2, 3, 8, 10, requires_grad=True)
    eager = model(x)
    compiled = torch.compile(model, fullgraph=True, backend="inductor")
    out = compiled(x)
    torch.testing.assert_close(out, eager, rtol=1e-5, atol=1e-6)
    (g_eager,) = torch.autograd.grad(eager.square().sum(), x)
    (g_comp,) = torch.autograd.grad(compiled(x).square().sum(), x)
    torch.testing.assert_close(g_comp, g_eager, rtol=1e-4, atol=1e-5)


def test_metric_ops_compile_without_graph_breaks() -> None:
    """The metric ops are graph-safe (srkit.metrics adds a data-dependent NaN check on top, by design)."""
    a, b = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    fn = torch.compile(
        lambda s, h: (ops.psnr(s, h, 255.0, 255.0, True, True, 2), ops.ssim(s, h, 255.0, 255.0, True, True, 2)),
        fullgraph=True,
        backend="eager",
    )
    p, q = fn(a, b)
    torch.testing.assert_close(p, metrics.psnr(a, b, y_only=True, shave=2, quantize=True))
    torch.testing.assert_close(q, metrics.ssim(a, b, y_only=True, shave=2, quantize=True))
