"""ContrastChannelAttention (IMDN's CCA) against a float64 PyTorch rendering of IMDN's definition."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from srkit import ops
from srkit.nn import ContrastChannelAttention, scaled_conv1x1


def cca64(x: torch.Tensor, m: ContrastChannelAttention) -> torch.Tensor:
    """IMDN's CCALayer, in float64: contrast = std + mean, conv_du, scale. Where std = 0 (a constant
    plane) sqrt has no derivative; like srkit, take it as 0 there (IMDN's code would give NaN)."""
    x = x.double()
    mean = x.mean((2, 3), keepdim=True)
    var = (x - mean).pow(2).mean((2, 3), keepdim=True)
    std = torch.where(var > 0, var.clamp_min(1e-300).sqrt(), torch.zeros_like(var))
    w1, b1, w2, b2 = (
        p.double() for p in (m.conv_du[0].weight, m.conv_du[0].bias, m.conv_du[2].weight, m.conv_du[2].bias)
    )
    y = torch.sigmoid(F.conv2d(F.relu(F.conv2d(std + mean, w1, b1)), w2, b2))
    return x * y


@pytest.mark.parametrize("shape", [(2, 32, 7, 9), (1, 16, 1, 1)])
def test_forward_and_backward_match_float64(backend, shape) -> None:
    device, name = backend
    torch.manual_seed(0)
    m = ContrastChannelAttention(shape[1], reduction=16).to(device)
    x = torch.randn(shape, device=device, requires_grad=True)
    y = m(x)
    assert ops.last_backend("channel_stats") == name and ops.last_backend("attention_scale") == name
    x64 = x.detach().double().requires_grad_()
    want = cca64(x64, m)
    torch.testing.assert_close(y.double(), want, rtol=1e-5, atol=1e-6)
    g = torch.randn(shape, device=device)
    (gx,) = torch.autograd.grad(y, x, g)
    (gx64,) = torch.autograd.grad(want, x64, g.double())
    torch.testing.assert_close(gx.double(), gx64, rtol=1e-4, atol=1e-5)
    m.zero_grad()
    (m(x) * g).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())


def test_autocast_bf16_channels_last() -> None:
    m = ContrastChannelAttention(32)
    x = torch.randn(2, 32, 6, 8).to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = m(x.bfloat16())
    assert y.dtype == torch.bfloat16 and y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y.double(), cca64(x.bfloat16(), m), rtol=2e-2, atol=2e-2)


@pytest.mark.slow
def test_compiles_without_graph_breaks() -> None:
    m = ContrastChannelAttention(16, reduction=4)
    x = torch.randn(2, 16, 5, 6, requires_grad=True)
    compiled = torch.compile(m, fullgraph=True)
    torch.testing.assert_close(compiled(x), m(x))
    (g1,) = torch.autograd.grad(compiled(x).sum(), x)
    (g2,) = torch.autograd.grad(m(x).sum(), x)
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-6)


def test_bad_configuration_is_named() -> None:
    with pytest.raises(ValueError, match="leave no hidden units"):
        ContrastChannelAttention(8, reduction=16)


@pytest.mark.parametrize("channels_last", [False, True])
def test_scaling_folded_into_the_following_1x1_conv(channels_last: bool) -> None:
    torch.manual_seed(1)
    cca = ContrastChannelAttention(32).double()
    conv = torch.nn.Conv2d(32, 24, 1).double()
    x = torch.randn(3, 32, 5, 7, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_()
    folded = scaled_conv1x1(x, cca.attention(x), conv)
    plain = conv(cca(x))
    torch.testing.assert_close(folded, plain)
    if channels_last:
        assert folded.is_contiguous(memory_format=torch.channels_last)
    g = torch.randn_like(plain)
    got = torch.autograd.grad(folded, (x, conv.weight, cca.conv_du[0].weight), g)
    want = torch.autograd.grad(plain, (x, conv.weight, cca.conv_du[0].weight), g)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="plain 1x1 convolution"):
        scaled_conv1x1(x, cca.attention(x), torch.nn.Conv2d(32, 8, 3).double())
