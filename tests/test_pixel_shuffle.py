"""pixel_shuffle / pixel_unshuffle: bit-exact with PyTorch on every backend, dtype, factor and layout."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from srkit import ops
from srkit.nn import PixelShuffle, PixelUnshuffle

from .layouts import LAYOUTS, in_layout, poisoned, random_tensor

DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.uint8, torch.float64]


@given(
    r=st.sampled_from([2, 3, 4, 8]),
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 5),
    w=st.integers(1, 6),
    dtype=st.sampled_from(DTYPES),
    layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**31 - 1),
)
def test_shuffle_and_unshuffle_bit_exact(backend, r, n, c, h, w, dtype, layout, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    x = in_layout(random_tensor((n, c * r * r, h, w), dtype, gen, device), layout)
    y = ops.pixel_shuffle(x, r)
    assert ops.last_backend("pixel_shuffle") == name
    want = F.pixel_shuffle(x, r)
    assert y.dtype == dtype and torch.equal(y, want)
    if layout == "channels_last" and want.is_contiguous(memory_format=torch.channels_last):
        assert y.is_contiguous(memory_format=torch.channels_last)  # the layout follows PyTorch's
    z = in_layout(y, layout)
    back = ops.pixel_unshuffle(z, r)
    assert ops.last_backend("pixel_unshuffle") == name
    assert torch.equal(back, F.pixel_unshuffle(z, r)) and torch.equal(back, x)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_output_element_is_written(backend, shuffle: bool, channels_last: bool) -> None:
    device, name = backend
    r = 3
    gen = torch.Generator().manual_seed(1)
    for dtype in (torch.float32, torch.uint8, torch.bfloat16):
        x = random_tensor((2, 18, 5, 7) if shuffle else (2, 2, 15, 21), dtype, gen, device)
        want = F.pixel_shuffle(x, r) if shuffle else F.pixel_unshuffle(x, r)
        out = poisoned(want.shape, dtype, device, channels_last)
        ops.implementations("pixel_shuffle")[name](x, r, out, shuffle)
        assert torch.equal(out, want)


def test_gradients_are_each_others_ops(backend) -> None:
    device, _ = backend
    x = torch.randn(2, 12, 3, 5, dtype=torch.float64, device=device, requires_grad=True)
    torch.autograd.gradcheck(lambda t: ops.pixel_shuffle(t, 2), (x,), fast_mode=True)
    y = torch.randn(2, 3, 6, 10, dtype=torch.float64, device=device, requires_grad=True)
    torch.autograd.gradcheck(lambda t: ops.pixel_unshuffle(t, 2), (y,), fast_mode=True)
    g = torch.randn(2, 3, 6, 10, dtype=torch.float64, device=device)
    (gx,) = torch.autograd.grad(ops.pixel_shuffle(x, 2), x, g)
    assert torch.equal(gx, F.pixel_unshuffle(g, 2))


def test_modules_match_torch() -> None:
    x = torch.randn(1, 8, 4, 4)
    assert torch.equal(PixelShuffle(2)(x), torch.nn.PixelShuffle(2)(x))
    assert torch.equal(PixelUnshuffle(2)(x), torch.nn.PixelUnshuffle(2)(x))
    assert "upscale_factor=2" in repr(PixelShuffle(2))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ops.pixel_shuffle(torch.zeros(1, 5, 2, 2), 2), r"channels \(5\) must be divisible by r\^2 = 4"),
        (lambda: ops.pixel_shuffle(torch.zeros(5, 2, 2), 2), r"must be 4-D"),
        (lambda: ops.pixel_shuffle(torch.zeros(1, 4, 2, 2), 0), r"positive int"),
        (lambda: ops.pixel_unshuffle(torch.zeros(1, 1, 3, 4), 2), r"divisible by r = 2"),
        (lambda: ops.pixel_shuffle(torch.zeros(1, 4, 2, 2, dtype=torch.complex64), 2), r"unsupported dtype"),
        (lambda: ops.pixel_shuffle([[1.0]], 2), r"must be a torch.Tensor"),
    ],
)
def test_bad_input_is_named(call, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()
