"""conv_epilogue (a k x k conv with bias [+ReLU] [+res_scale x +residual] fused) against float64,
forward on every backend, layout and odd shape, into poisoned outputs, and backward."""

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


def conv64(x, w, b, residual=None, res_scale=1.0, relu=False) -> torch.Tensor:
    y = F.conv2d(x.double(), w.double(), b.double(), padding=w.shape[-1] // 2)
    if relu:
        y = F.relu(y)
    return y if residual is None else residual.double() + res_scale * y


def case(n: int, ci: int, co: int, k: int, h: int, w: int, gen: torch.Generator):
    x = torch.randn(n, ci, h, w, generator=gen)
    wt = torch.randn(co, ci, k, k, generator=gen) / (ci * k * k) ** 0.5
    return x, wt, torch.randn(co, generator=gen) * 0.1, torch.randn(n, co, h, w, generator=gen)


@settings(max_examples=14)
@given(
    n=st.integers(1, 2),
    ci=st.integers(1, 19),
    co=st.integers(1, 21),
    k=st.sampled_from([1, 3, 5]),
    h=st.integers(1, 9),
    w=st.integers(1, 11),
    epilogue=st.sampled_from(["bias", "relu", "residual", "relu+residual"]),
    res_scale=st.sampled_from([1.0, 0.1, -2.0]),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    tf32=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_matches_float64(backend, n, ci, co, k, h, w, epilogue, res_scale, dtype, layout, tf32, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    x, wt, b, r = (t.to(device) for t in case(n, ci, co, k, h, w, gen))
    x = in_layout(x.to(dtype), layout)
    relu = "relu" in epilogue
    r = in_layout(r.to(dtype), LAYOUTS[seed % 3]) if "residual" in epilogue else None
    with fp32_mode(tf32=tf32):
        y = ops.conv_epilogue(x, wt, b, residual=r, res_scale=res_scale, relu=relu)
    assert ops.last_backend("conv_epilogue") == name and y.dtype == dtype and y.shape == (n, co, h, w)
    want = conv64(x, wt.to(dtype), b.to(dtype), r, res_scale, relu)  # the operands as the kernel sees them
    scale = want.abs().amax().clamp_min(1.0)
    assert float((y.double() - want).abs().max() / scale) <= tolerance(dtype, device, tf32)


@pytest.mark.parametrize("channels_last", [False, True])
def test_every_output_element_is_written(backend, channels_last: bool) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(3)
    x, wt, b, r = (t.to(device) for t in case(2, 5, 17, 3, 7, 13, gen))
    for residual, relu in ((None, True), (r, False)):
        out = poisoned((2, 17, 7, 13), torch.float32, device, channels_last)
        implementations("conv_epilogue")[name](x, wt, b, residual, 0.5, relu, out)
        torch.testing.assert_close(out.double(), conv64(x, wt, b, residual, 0.5, relu), rtol=1e-5, atol=2e-5)


def test_without_a_bias(backend) -> None:
    """b=None adds nothing (and allocates no zeros); the backward returns no bias gradient."""
    device, name = backend
    gen = torch.Generator().manual_seed(9)
    x, wt, _, r = (t.to(device) for t in case(1, 5, 18, 3, 6, 7, gen))
    out = poisoned((1, 18, 6, 7), torch.float32, device, True)
    implementations("conv_epilogue")[name](x, wt, None, r, 0.5, True, out)
    torch.testing.assert_close(
        out.double(), r.double() + 0.5 * F.relu(F.conv2d(x.double(), wt.double(), padding=1)), rtol=1e-5, atol=2e-5
    )
    xg = x.clone().requires_grad_()
    gx, gw = torch.autograd.grad(ops.conv_epilogue(xg, wt.requires_grad_(), relu=True).sum(), (xg, wt))
    x64, w64 = x.double().requires_grad_(), wt.detach().double().requires_grad_()
    want = torch.autograd.grad(F.relu(F.conv2d(x64, w64, padding=1)).sum(), (x64, w64))
    torch.testing.assert_close(gx.double(), want[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gw.double(), want[1], rtol=1e-4, atol=1e-5)


def test_float64_on_the_cpp_kernel_and_the_reference() -> None:
    gen = torch.Generator().manual_seed(4)
    x, wt, b, r = (t.double() for t in case(1, 4, 6, 3, 5, 6, gen))
    for name in ("cpp", "torch"):
        with ops.use_backend(name, strict=True):
            y = ops.conv_epilogue(x, wt, b, residual=r, res_scale=0.3)
        torch.testing.assert_close(y, conv64(x, wt, b, r, 0.3), rtol=1e-12, atol=1e-12)
    with ops.use_backend("triton"):  # no float64 on tensor cores: falls back, and says so
        ops.conv_epilogue(x, wt, b)
    call = ops.last_call("conv_epilogue")
    assert call is not None and call.fallback_from == "triton" and "tensor cores" in (call.reason or "")


@pytest.mark.parametrize("backend_name", ["torch", "triton", "cpp"])
@pytest.mark.parametrize("epilogue", ["relu", "residual", "relu+residual"])
def test_backward_matches_float64(backend_name: str, epilogue: str) -> None:
    gen = torch.Generator().manual_seed(5)
    x, wt, b, r = case(2, 6, 5, 3, 5, 7, gen)
    relu, res = "relu" in epilogue, "residual" in epilogue
    ins = [t.requires_grad_() for t in (x, wt, b, r)]
    g = torch.randn(2, 5, 5, 7, generator=gen)
    with ops.use_backend(backend_name, strict=True):
        y = ops.conv_epilogue(ins[0], ins[1], ins[2], residual=ins[3] if res else None, res_scale=0.7, relu=relu)
        got = torch.autograd.grad(y, ins if res else ins[:3], g)
    ins64 = [t.detach().double().requires_grad_() for t in (x, wt, b, r)]
    want = torch.autograd.grad(
        conv64(*ins64[:3], ins64[3] if res else None, 0.7, relu), ins64 if res else ins64[:3], g.double()
    )
    for a, w in zip(got, want, strict=True):
        torch.testing.assert_close(a.double(), w, rtol=1e-4, atol=1e-5)


def test_gradcheck_float64() -> None:
    gen = torch.Generator().manual_seed(6)
    x, wt, b, r = (t.double().requires_grad_() for t in case(1, 3, 2, 3, 3, 4, gen))
    for name in ("torch", "cpp"):
        with ops.use_backend(name, strict=True):
            torch.autograd.gradcheck(
                lambda *t: ops.conv_epilogue(t[0], t[1], t[2], residual=t[3], res_scale=0.5), (x, wt, b, r)
            )
            torch.autograd.gradcheck(lambda *t: ops.conv_epilogue(*t, relu=True), (x, wt, b))


def test_relu_without_residual_saves_only_the_output_for_its_mask() -> None:
    gen = torch.Generator().manual_seed(7)
    x, wt, b, _ = case(1, 4, 16, 3, 8, 8, gen)
    x.requires_grad_()
    saved: list[int] = []
    # the op itself (a GPU's path, or any forced backend): unforced CPU training runs plain autograd
    with ops.use_backend("torch", strict=True):
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
            ops.conv_epilogue(x, wt, b, relu=True)
    assert sum(saved) == x.numel() + wt.numel() + b.numel() + 16 * 64  # x, w, b and the output: no pre-ReLU copy


def test_bad_inputs_are_named() -> None:
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="odd k"):
        ops.conv_epilogue(x, torch.zeros(2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"\(CO, 3, k, k\)"):
        ops.conv_epilogue(x, torch.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match="b must be"):
        ops.conv_epilogue(x, torch.zeros(2, 3, 3, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="residual must be"):
        ops.conv_epilogue(x, torch.zeros(2, 3, 3, 3), residual=torch.zeros(1, 3, 4, 4))
    with pytest.raises(TypeError, match="float16"):
        ops.conv_epilogue(x.long(), torch.zeros(2, 3, 3, 3))
