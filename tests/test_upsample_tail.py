"""The fused sub-pixel tail against a float64 reference, forward and backward, on every backend."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from srkit import ops
from srkit.nn import UpsampleTail

from .layouts import LAYOUTS, in_layout, poisoned, random_tensor
from .references import tail64

# one rounding of the float32 (float64) result to the output dtype, plus float32 arithmetic
TOL = {torch.float64: 1e-12, torch.float32: 2e-6, torch.float16: 1e-3, torch.bfloat16: 8e-3}

CLAMPS = [None, (-0.5, 0.75), (None, 0.25), (0.0, None)]


def check_close(got: torch.Tensor, want64: torch.Tensor) -> None:
    tol = TOL[got.dtype]
    # relative to each value's magnitude: a one-ulp rounding difference is allowed, nothing more
    err = (got.double() - want64).abs() / want64.abs().clamp_min(1.0)
    assert float(err.max()) <= tol, f"max relative error {float(err.max()):.3g} > {tol} for {got.dtype}"


@given(
    r=st.sampled_from([2, 3, 4]),
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 5),
    w=st.integers(1, 6),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    use_skip=st.booleans(),
    use_mean=st.booleans(),
    clamp=st.sampled_from(CLAMPS),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_matches_float64(backend, r, n, c, h, w, dtype, layout, use_skip, use_mean, clamp, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    x = in_layout(random_tensor((n, c * r * r, h, w), dtype, gen, device), layout)
    skip = in_layout(random_tensor((n, c, h * r, w * r), dtype, gen, device), layout) if use_skip else None
    mean = torch.rand(c, generator=gen).tolist() if use_mean else None
    y = ops.upsample_tail(x, r, skip=skip, mean=mean, clamp=clamp)
    assert ops.last_backend("upsample_tail") == name
    assert y.shape == (n, c, h * r, w * r) and y.dtype == dtype
    lo, hi = clamp if clamp else (None, None)
    check_close(y, tail64(x, r, skip, mean, lo, hi))


@pytest.mark.parametrize("channels_last", [False, True])
def test_every_output_element_is_written(backend, channels_last: bool) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(3)
    for dtype in (torch.float32, torch.bfloat16):
        x = random_tensor((2, 27, 4, 5), dtype, gen, device)
        skip = random_tensor((2, 3, 12, 15), dtype, gen, device)
        mean = torch.tensor([0.1, -0.2, 0.3], device=device)
        out = poisoned((2, 3, 12, 15), dtype, device, channels_last)
        ops.implementations("upsample_tail")[name](x, 3, skip, mean, 0.0, 1.0, out)
        check_close(out, tail64(x, 3, skip, mean.tolist(), 0.0, 1.0))


def test_nan_passes_through_the_clamp(backend) -> None:
    device, _ = backend
    x = torch.zeros(1, 4, 1, 1, device=device)
    x[0, 1] = float("nan")
    y = ops.upsample_tail(x, 2, clamp=(0.0, 1.0))
    assert torch.isnan(y).sum() == 1  # as torch.clamp: NaN is not hidden


@pytest.mark.parametrize("clamp", [None, (-0.3, 0.3)])
def test_gradients(backend, clamp) -> None:
    device, _ = backend
    gen = torch.Generator().manual_seed(7)
    x = random_tensor((2, 12, 3, 4), torch.float64, gen, device).requires_grad_()
    skip = random_tensor((2, 3, 6, 8), torch.float64, gen, device).requires_grad_()
    mean = torch.tensor([0.1, 0.2, -0.1], dtype=torch.float32, device=device, requires_grad=True)
    torch.autograd.gradcheck(lambda a, b: ops.upsample_tail(a, 2, skip=b, clamp=clamp), (x, skip), fast_mode=True)
    # float64 reference gradients, including the float32 mean's
    g = random_tensor((2, 3, 6, 8), torch.float64, gen, device)
    got = torch.autograd.grad(ops.upsample_tail(x, 2, skip=skip, mean=mean, clamp=clamp), (x, skip, mean), g)
    lo, hi = clamp or (None, None)
    m64 = mean.detach().double().requires_grad_()
    import torch.nn.functional as F

    v = F.pixel_shuffle(x, 2) + skip + m64.view(1, -1, 1, 1)
    v = torch.clamp(v, lo, hi) if clamp else v
    want = torch.autograd.grad(v, (x, skip, m64), g)
    for a, b in zip(got, want, strict=True):
        assert torch.allclose(a.double(), b, rtol=1e-6, atol=1e-6)


def test_module_and_bf16_training_step() -> None:
    tail = UpsampleTail(2, mean=[0.4, 0.5, 0.6], clamp=(0.0, 1.0))
    x = torch.randn(1, 12, 4, 4, dtype=torch.bfloat16, requires_grad=True)
    y = tail(x)
    y.float().sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.bfloat16
    assert "mean=True" in repr(tail) and tail.state_dict()["mean"].shape == (3,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(x=torch.zeros(1, 5, 2, 2), r=2), r"channels \(5\) must be divisible"),
        (dict(x=torch.zeros(1, 4, 2, 2, dtype=torch.uint8), r=2), r"must be float16, bfloat16, float32 or float64"),
        (dict(x=torch.zeros(1, 4, 2, 2), r=2, skip=torch.zeros(1, 1, 3, 4)), r"skip has shape \(1, 1, 3, 4\)"),
        (dict(x=torch.zeros(1, 4, 2, 2), r=2, skip=torch.zeros(1, 1, 4, 4, dtype=torch.float64)), r"skip dtype"),
        (dict(x=torch.zeros(1, 8, 2, 2), r=2, mean=[1.0]), r"mean must have 2 values"),
        (dict(x=torch.zeros(1, 4, 2, 2), r=2, clamp=(1.0, 0.0)), r"reversed"),
    ],
)
def test_bad_input_is_named(kwargs, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        ops.upsample_tail(**kwargs)
