"""wide_pointwise (WDSR-B's 1x1 -> ReLU -> 1x1) against float64, forward and recomputing backward."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from srkit import ops
from srkit.ops.dispatch import implementations

from .layouts import LAYOUTS, in_layout, poisoned
from .precision import TOL, fp32_mode, tolerance

pytestmark = pytest.mark.usefixtures("ieee")  # fixed fp32 tolerances below; TF32 where a test says


def weights(c: int, e: int, l: int, gen: torch.Generator) -> list[torch.Tensor]:
    return [
        torch.randn(e, c, generator=gen) / c**0.5,
        torch.randn(e, generator=gen) * 0.1,
        torch.randn(l, e, generator=gen) / e**0.5,
        torch.randn(l, generator=gen) * 0.1,
    ]


def pointwise64(x, w1, b1, w2, b2) -> torch.Tensor:
    hid = F.relu(F.conv2d(x.double(), w1.double()[:, :, None, None], b1.double()))
    return F.conv2d(hid, w2.double()[:, :, None, None], b2.double())


@settings(max_examples=12)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 9),
    expansion=st.integers(1, 6),
    l=st.integers(1, 7),
    h=st.integers(1, 6),
    w=st.integers(1, 9),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    tf32=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_matches_float64(backend, n, c, expansion, l, h, w, dtype, layout, tf32, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    ws = [t.to(device) for t in weights(c, c * expansion, l, gen)]
    x = in_layout(torch.randn((n, c, h, w), generator=gen).to(device=device, dtype=dtype), layout)
    with fp32_mode(tf32=tf32):
        y = ops.wide_pointwise(x, *ws)
    assert ops.last_backend("wide_pointwise") == name and y.dtype == dtype and y.shape == (n, l, h, w)
    # the kernels round the inputs and the wide activation to x's dtype, as cuDNN does: compare with that
    want = pointwise64(x, *(t.to(dtype) for t in ws))
    scale = want.abs().amax().clamp_min(1.0)
    assert float((y.double() - want).abs().max() / scale) <= tolerance(dtype, device, tf32)


@pytest.mark.parametrize("backend_name", ["torch", "triton", "cpp"])
def test_backward_matches_float64(backend_name: str) -> None:
    gen = torch.Generator().manual_seed(5)
    w1, b1, w2, b2 = (t.requires_grad_() for t in weights(6, 24, 5, gen))
    x = torch.randn(2, 6, 5, 7, generator=gen, requires_grad=True)
    g = torch.randn(2, 5, 5, 7, generator=gen)
    with ops.use_backend(backend_name, strict=True):
        y = ops.wide_pointwise(x, w1, b1, w2, b2)
    with ops.use_backend(backend_name), ops.trace() as calls:  # the backward has no C++ kernel: cpp falls back
        got = torch.autograd.grad(y, (x, w1, b1, w2, b2), g)
    assert [(c.op, c.backend) for c in calls] == [
        ("wide_pointwise_backward", "torch" if backend_name == "cpp" else backend_name)
    ]
    ins64 = [t.detach().double().requires_grad_() for t in (x, w1, b1, w2, b2)]
    want = torch.autograd.grad(pointwise64(*ins64), ins64, g.double())
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)


@settings(max_examples=10)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 9),
    expansion=st.integers(1, 6),
    l=st.integers(1, 7),
    h=st.integers(1, 6),
    w=st.integers(1, 9),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**31 - 1),
)
def test_backward_kernel_matches_float64(n, c, expansion, l, h, w, dtype, layout, seed) -> None:
    """The Triton backward (the wide activation recomputed per tile) into a poisoned input gradient."""
    gen = torch.Generator().manual_seed(seed)
    e = c * expansion
    w1, b1, w2, _ = (t.to(dtype) for t in weights(c, e, l, gen))
    x = in_layout(torch.randn((n, c, h, w), generator=gen).to(dtype), layout)
    g = in_layout(torch.randn((n, l, h, w), generator=gen).to(dtype), LAYOUTS[seed % 3])
    gx = poisoned(x.shape, dtype, channels_last=bool(seed % 2))
    gw1, gb1, gw2, gb2 = (torch.zeros(s) for s in ((e, c), (e,), (l, e), (l,)))
    implementations("wide_pointwise_backward")["triton"](x, g, w1, b1, w2, gx, gw1, gb1, gw2, gb2)
    ins64 = [t.double().requires_grad_() for t in (x, w1, b1, w2)]
    want = torch.autograd.grad(pointwise64(*ins64, torch.zeros(l, dtype=torch.float64)), ins64, g.double())
    want = [*want, g.double().sum((0, 2, 3))]
    for got, ref in zip((gx, gw1, gb1, gw2, gb2), (want[0], want[1], want[2], want[3], want[4]), strict=True):
        scale = ref.abs().amax().clamp_min(1.0)
        assert float((got.double() - ref).abs().max() / scale) <= TOL[dtype]


def test_gradcheck_float64_on_the_reference() -> None:
    gen = torch.Generator().manual_seed(6)
    ins = [t.double().requires_grad_() for t in (torch.randn(1, 3, 2, 3, generator=gen), *weights(3, 6, 2, gen))]
    with ops.use_backend("torch", strict=True):
        torch.autograd.gradcheck(ops.wide_pointwise, ins, fast_mode=True)


def test_the_wide_activation_is_not_saved_for_backward() -> None:
    gen = torch.Generator().manual_seed(7)
    c, e, l = 8, 48, 6
    ws = [t.requires_grad_() for t in weights(c, e, l, gen)]
    x = torch.randn(2, c, 16, 16, generator=gen, requires_grad=True)
    saved: list[int] = []
    # the op itself (a GPU's path, or any forced backend): unforced CPU training runs plain autograd
    with ops.use_backend("torch", strict=True):
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
            ops.wide_pointwise(x, *ws)
    assert sum(saved) == x.numel() + sum(t.numel() for t in ws)  # x and weights only, nothing of size e x H x W


def test_cpu_default_is_onednn_and_float64_on_triton_falls_back_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRKIT_BACKEND", raising=False)
    gen = torch.Generator().manual_seed(8)
    ops.wide_pointwise(torch.randn(1, 3, 4, 4, generator=gen), *weights(3, 6, 2, gen))
    call = ops.last_call("wide_pointwise")
    assert call is not None and call.backend == "torch" and call.fallback_from is None  # measured faster: a choice
    with ops.use_backend("triton"):
        ops.wide_pointwise(
            torch.randn(1, 3, 4, 4, generator=gen, dtype=torch.float64), *(t.double() for t in weights(3, 6, 2, gen))
        )
    call = ops.last_call("wide_pointwise")
    assert (
        call is not None
        and call.backend == "torch"
        and call.fallback_from == "triton"
        and "tensor cores" in (call.reason or "")
    )


def test_weights_that_do_not_chain_are_named() -> None:
    with pytest.raises(ValueError, match="weights do not chain"):
        ops.wide_pointwise(
            torch.zeros(1, 3, 2, 2), torch.zeros(6, 4), torch.zeros(6), torch.zeros(2, 6), torch.zeros(2)
        )
