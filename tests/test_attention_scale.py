"""attention_scale (CCA's MLP fused into its scaling) against float64: every backend, dtype and
layout, odd shapes, poisoned outputs; gradients for x, the statistics and the weights."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from srkit import ops
from srkit.ops.dispatch import implementations

from .layouts import LAYOUTS, in_layout, poisoned

TOL = {torch.float32: 1e-5, torch.bfloat16: 1e-2, torch.float16: 2e-3, torch.float64: 1e-12}


def inputs(n: int, c: int, r: int, h: int, w: int, gen: torch.Generator) -> list[torch.Tensor]:
    x = torch.randn(n, c, h, w, generator=gen)
    mean, std = torch.randn(n, c, generator=gen), torch.rand(n, c, generator=gen)
    return [
        x,
        mean,
        std,
        torch.randn(r, c, generator=gen) / c**0.5,
        torch.randn(r, generator=gen) * 0.1,
        torch.randn(c, r, generator=gen) / r**0.5,
        torch.randn(c, generator=gen) * 0.1,
    ]


def scale64(x, mean, std, w1, b1, w2, b2) -> torch.Tensor:
    x, mean, std, w1, b1, w2, b2 = (t.double() for t in (x, mean, std, w1, b1, w2, b2))
    s = torch.sigmoid(torch.relu((mean + std) @ w1.t() + b1) @ w2.t() + b2)
    return x * s[:, :, None, None]


@settings(max_examples=14)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 70),
    r=st.integers(1, 5),
    h=st.integers(1, 7),
    w=st.integers(1, 9),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_matches_float64(backend, n, c, r, h, w, dtype, layout, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    x, *rest = (t.to(device) for t in inputs(n, c, r, h, w, gen))
    x = in_layout(x.to(dtype), layout)
    y = ops.attention_scale(x, *rest)
    assert ops.last_backend("attention_scale") == name and y.dtype == dtype and y.shape == x.shape
    want = scale64(x, *rest)
    assert float((y.double() - want).abs().max() / want.abs().amax().clamp_min(1.0)) <= TOL[dtype]


@pytest.mark.parametrize("channels_last", [False, True])
def test_every_output_element_is_written(backend, channels_last: bool) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(2)
    x, *rest = (t.to(device) for t in inputs(2, 37, 3, 5, 11, gen))
    out = poisoned(x.shape, torch.float32, device, channels_last)
    implementations("attention_scale")[name](x, *rest, out)
    torch.testing.assert_close(out.double(), scale64(x, *rest), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend_name", ["torch", "triton", "cpp"])
def test_backward_matches_float64(backend_name: str) -> None:
    gen = torch.Generator().manual_seed(3)
    ins = [t.requires_grad_() for t in inputs(2, 20, 3, 4, 5, gen)]
    g = torch.randn(2, 20, 4, 5, generator=gen)
    with ops.use_backend(backend_name, strict=True):
        got = torch.autograd.grad(ops.attention_scale(*ins), ins, g)
    ins64 = [t.detach().double().requires_grad_() for t in ins]
    want = torch.autograd.grad(scale64(*ins64), ins64, g.double())
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)


def test_gradcheck_float64() -> None:
    gen = torch.Generator().manual_seed(4)
    ins = [t.double().requires_grad_() for t in inputs(1, 5, 2, 2, 3, gen)]
    with ops.use_backend("torch", strict=True):
        torch.autograd.gradcheck(ops.attention_scale, ins)


def test_bad_shapes_are_named() -> None:
    gen = torch.Generator().manual_seed(5)
    x, mean, std, w1, b1, w2, b2 = inputs(1, 8, 2, 3, 3, gen)
    with pytest.raises(ValueError, match="mean and std"):
        ops.attention_scale(x, mean[:, :4], std, w1, b1, w2, b2)
    with pytest.raises(ValueError, match="do not fit 8 channels"):
        ops.attention_scale(x, mean, std, w1, b1, w2[:4], b2)
