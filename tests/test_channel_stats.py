"""channel_stats: two-pass mean/std per (n, c) against float64, forward and backward, every backend."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from srkit import ops

from .layouts import LAYOUTS, in_layout, random_tensor

# inputs are rounded to their dtype first, so only the float32 accumulation error remains
TOL = {torch.float64: 1e-12, torch.float32: 1e-5, torch.float16: 1e-5, torch.bfloat16: 1e-5}


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 9),
    h=st.integers(1, 13),
    w=st.integers(1, 17),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    offset=st.sampled_from([0.0, 100.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_float64(backend, n, c, h, w, dtype, layout, offset, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    x = in_layout((random_tensor((n, c, h, w), torch.float64, gen, device) + offset).to(dtype), layout)
    mean, std = ops.channel_stats(x)
    assert ops.last_backend("channel_stats") == name
    assert mean.dtype == std.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    x64 = x.double()
    scale = 1.0 + offset  # a large mean must not ruin the std: that is what two passes are for
    torch.testing.assert_close(mean.double(), x64.mean((2, 3)), rtol=TOL[dtype], atol=TOL[dtype] * scale)
    torch.testing.assert_close(
        std.double(), x64.std((2, 3), correction=0), rtol=TOL[dtype] * 10, atol=TOL[dtype] * scale
    )


def test_poisoned_outputs_are_overwritten(backend) -> None:
    device, name = backend
    x = torch.randn(3, 7, 5, 6, device=device).contiguous(memory_format=torch.channels_last)
    mean, std = torch.full((3, 7), float("nan"), device=device), torch.full((3, 7), float("nan"), device=device)
    ops.implementations("channel_stats")[name](x, mean, std)
    torch.testing.assert_close(mean.double(), x.double().mean((2, 3)), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(std.double(), x.double().std((2, 3), correction=0), rtol=1e-5, atol=1e-6)


def test_gradients(backend) -> None:
    device, _ = backend
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, device=device, requires_grad=True)
    torch.autograd.gradcheck(lambda t: ops.channel_stats(t), (x,), fast_mode=True)
    g_m, g_s = (
        torch.randn(2, 3, dtype=torch.float64, device=device),
        torch.randn(2, 3, dtype=torch.float64, device=device),
    )
    m, s = ops.channel_stats(x)
    (got,) = torch.autograd.grad((m * g_m).sum() + (s * g_s).sum(), x)
    x2 = x.detach().requires_grad_()
    (want,) = torch.autograd.grad((x2.mean((2, 3)) * g_m).sum() + (x2.std((2, 3), correction=0) * g_s).sum(), x2)
    torch.testing.assert_close(got, want)


def test_constant_planes_have_zero_std_and_finite_gradients(backend) -> None:
    device, _ = backend
    x = torch.full((2, 3, 1, 1), 0.5, device=device, requires_grad=True)  # 1x1 images
    mean, std = ops.channel_stats(x)
    assert torch.equal(std, torch.zeros_like(std))
    (g,) = torch.autograd.grad((mean + std).sum(), x)
    assert torch.isfinite(g).all() and torch.allclose(g, torch.ones_like(g))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.zeros(2, 3, 4), r"must be 4-D"),
        (torch.zeros(1, 3, 2, 2, dtype=torch.int32), r"float16, bfloat16, float32 or float64"),
        (torch.zeros(1, 3, 0, 2), r"planes are empty"),
    ],
)
def test_bad_input_is_named(x: torch.Tensor, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        ops.channel_stats(x)
