"""channel_scale: x * s[n, c] against float64 (one rounding), forward and backward, every backend."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from srkit import ops

from .layouts import LAYOUTS, in_layout, poisoned, random_tensor
from .test_upsample_tail import TOL, check_close


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 9),
    h=st.integers(1, 7),
    w=st.integers(1, 11),
    dtype=st.sampled_from(list(TOL)),
    layout=st.sampled_from(LAYOUTS),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_float64(backend, n, c, h, w, dtype, layout, seed) -> None:
    device, name = backend
    gen = torch.Generator().manual_seed(seed)
    x = in_layout(random_tensor((n, c, h, w), dtype, gen, device), layout)
    s = torch.rand((n, c), generator=gen).to(device)
    y = ops.channel_scale(x, s)
    assert ops.last_backend("channel_scale") == name and y.dtype == dtype
    if layout == "channels_last" and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        assert y.is_contiguous(memory_format=torch.channels_last)
    check_close(y, x.double() * s.double()[:, :, None, None])


@pytest.mark.parametrize("channels_last", [False, True])
def test_every_output_element_is_written(backend, channels_last: bool) -> None:
    device, name = backend
    x = torch.randn(2, 5, 6, 7, device=device)
    s = torch.rand(2, 5, device=device)
    out = poisoned(x.shape, x.dtype, device, channels_last)
    ops.implementations("channel_scale")[name](x, s, out)
    check_close(out, x.double() * s.double()[:, :, None, None])


def test_gradients(backend) -> None:
    device, _ = backend
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, device=device, requires_grad=True)
    s = torch.rand(2, 3, dtype=torch.float64, device=device, requires_grad=True)
    torch.autograd.gradcheck(lambda a, b: ops.channel_scale(a, b), (x, s), fast_mode=True)


@pytest.mark.parametrize(
    ("x", "s", "match"),
    [
        (torch.zeros(1, 3, 2, 2), torch.zeros(1, 4), r"s has shape \(1, 4\), expected \(N, C\) = \(1, 3\)"),
        (torch.zeros(1, 3, 2, 2, dtype=torch.uint8), torch.zeros(1, 3), r"float16, bfloat16, float32 or float64"),
        (torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, dtype=torch.int64), r"floating-point"),
    ],
)
def test_bad_input_is_named(x: torch.Tensor, s: torch.Tensor, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        ops.channel_scale(x, s)
