"""wdsr_a_fused (WDSR-A's whole block in one kernel, halo recomputed) against float64: every
backend, dtype and layout, odd shapes smaller and larger than a tile, poisoned outputs, backward."""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from srkit import ops
from srkit.nn import WideActBlockA

from .layouts import LAYOUTS, in_layout, poisoned
from .precision import TOL, fp32_mode, tolerance

pytestmark = pytest.mark.usefixtures("ieee")  # fixed fp32 tolerances below; TF32 where a test says


def block64(x, w1, b1, w2, b2, res_scale) -> torch.Tensor:
    pad = w1.shape[-1] // 2
    x, w1, b1, w2, b2 = (t.double() for t in (x, w1, b1, w2, b2))
    return x + res_scale * F.conv2d(F.relu(F.conv2d(x, w1, b1, padding=pad)), w2, b2, padding=pad)


def weights(c: int, e: int, k: int, gen: torch.Generator) -> list[torch.Tensor]:
    return [
        torch.randn(e, c, k, k, generator=gen) / (c * k * k) ** 0.5,
        torch.randn(e, generator=gen) * 0.1,
        torch.randn(c, e, k, k, generator=gen) / (e * k * k) ** 0.5,
        torch.randn(c, generator=gen) * 0.1,
    ]


# no C++ kernel (on the CPU the reference is the choice): Triton and the reference, on each device
PAIRS = [("cpu", "torch"), ("cpu", "triton")] + (
    [("cuda", "triton"), ("cuda", "torch")] if torch.cuda.is_available() else []
)


@pytest.mark.parametrize("device_backend", PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
@settings(max_examples=10)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 9),
    expansion=st.integers(1, 4),
    k=st.sampled_from([1, 3, 5]),
    h=st.integers(1, 19),
    w=st.integers(1, 21),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    tf32=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_forward_matches_float64(device_backend, n, c, expansion, k, h, w, dtype, layout, tf32, seed) -> None:
    device, name = device_backend
    gen = torch.Generator().manual_seed(seed)
    ws = [t.to(device) for t in weights(c, c * expansion, k, gen)]
    x = in_layout(torch.randn((n, c, h, w), generator=gen).to(device=device, dtype=dtype), layout)
    if name == "triton" and device == "cuda" and dtype == torch.float32 and not tf32:  # compiled, it needs tensor cores
        with (
            ops.use_backend(name, strict=True),
            fp32_mode(tf32=tf32),
            pytest.raises(ops.BackendUnavailable, match="needs tensor cores"),
        ):
            ops.wdsr_a_fused(x, *ws, res_scale=0.7)
        return
    with ops.use_backend(name, strict=True), fp32_mode(tf32=tf32):
        y = ops.wdsr_a_fused(x, *ws, res_scale=0.7)
    assert ops.last_backend("wdsr_a_fused") == name and y.dtype == dtype and y.shape == x.shape
    want = block64(x, *(t.to(dtype) for t in ws), 0.7)
    assert float((y.double() - want).abs().max() / want.abs().amax().clamp_min(1.0)) <= tolerance(dtype, device, tf32)


@pytest.mark.parametrize("programs", [1, 3, 64])
def test_every_tile_is_written_whatever_the_grid(programs: int) -> None:
    from srkit.kernels import wdsr_a_fused as k

    gen = torch.Generator().manual_seed(2)
    w1, b1, w2, b2 = weights(6, 24, 3, gen)
    x = torch.randn(2, 6, 17, 23, generator=gen)
    out = poisoned(x.shape, torch.float32, channels_last=programs == 3)
    k.wdsr_a_fused(x, w1, b1, w2, b2, 0.5, out, programs=programs)  # persistent programs walk all 2 x 3 x 3 tiles
    torch.testing.assert_close(out.double(), block64(x, w1, b1, w2, b2, 0.5), rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("backend_name", ["torch", "triton"])
def test_the_fused_block_trains_like_the_pair(backend_name: str) -> None:
    torch.manual_seed(3)
    pair = WideActBlockA(5, expansion=4, res_scale=0.3)
    fused = WideActBlockA(5, expansion=4, res_scale=0.3, fused=True)
    fused.load_state_dict(pair.state_dict())
    x = torch.randn(2, 5, 9, 11, requires_grad=True)
    with ops.use_backend(backend_name, strict=True):
        y = fused(x)
    assert ops.last_backend("wdsr_a_fused") == backend_name
    got = torch.autograd.grad(y.square().sum(), (x, *fused.parameters()))
    want = torch.autograd.grad(pair(x).square().sum(), (x, *pair.parameters()))
    torch.testing.assert_close(y, pair(x), rtol=1e-5, atol=1e-5)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_gradcheck_float64_and_bad_weights() -> None:
    gen = torch.Generator().manual_seed(4)
    ins = [t.double().requires_grad_() for t in (torch.randn(1, 2, 3, 4, generator=gen), *weights(2, 4, 3, gen))]
    torch.autograd.gradcheck(lambda *t: ops.wdsr_a_fused(*t, res_scale=0.5), ins)
    with pytest.raises(ValueError, match="do not make a block for 2 channels"):
        ops.wdsr_a_fused(ins[0], ins[1], ins[2], ins[3][:, :3], ins[4])


def test_compiled_ieee_fp32_declines_the_fused_kernel_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the interpreter (a GPU, or the compile gate), IEEE fp32 is refused with its reason and
    the dispatcher names the fallback; TF32 and half precision keep the kernel."""
    op = importlib.import_module("srkit.ops.wdsr_a_fused")  # the module (srkit.ops exports the function by its name)

    monkeypatch.setattr(op, "triton_interpreting", lambda: False)
    x = torch.randn(1, 4, 5, 5)
    with fp32_mode(tf32=False):
        assert "needs tensor cores" in op._unsupported(x)("triton")
    with fp32_mode(tf32=True):
        assert op._unsupported(x)("triton") == ""
    assert op._unsupported(x.bfloat16())("triton") == "" and op._unsupported(x)("torch") == ""
