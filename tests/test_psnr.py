"""Batched PSNR: every backend against float64 references and scikit-image; inputs; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from srkit import metrics, ops
from srkit.reference.ssim import skimage_loop

from .layouts import LAYOUTS, in_layout
from .references import psnr64

DTYPES = [torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64]


def image_batch(shape, dtype: torch.dtype, gen: torch.Generator, device: str) -> tuple[torch.Tensor, float]:
    """Random images in their dtype's natural range, and the multiplier to 0..255."""
    if dtype == torch.uint8:
        return torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8).to(device), 1.0
    return torch.rand(shape, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype), 255.0


@given(
    n=st.integers(1, 3),
    c=st.sampled_from([1, 3]),
    h=st.integers(1, 19),
    w=st.integers(1, 23),
    sr_dtype=st.sampled_from(DTYPES),
    hr_dtype=st.sampled_from(DTYPES),
    layout=st.sampled_from(LAYOUTS),
    y_only=st.booleans(),
    quantize=st.booleans(),
    shave=st.integers(0, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_float64_reference(
    backend, n, c, h, w, sr_dtype, hr_dtype, layout, y_only, quantize, shave, seed
) -> None:
    device, name = backend
    if min(h, w) - 2 * shave < 1:
        shave = 0
    gen = torch.Generator().manual_seed(seed)
    sr, sm = image_batch((n, c, h, w), sr_dtype, gen, device)
    hr, hm = image_batch((n, c, h, w), hr_dtype, gen, device)
    sr = in_layout(sr, layout)
    got = metrics.psnr(sr, hr, y_only=y_only, shave=shave, quantize=quantize)
    assert ops.last_backend("psnr") == name
    assert got.dtype == torch.float64 and got.shape == (n,)
    want = psnr64(sr, hr, sm, hm, quantize, y_only and c == 3, shave)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-10)


def test_matches_scikit_image_on_y(backend) -> None:
    device, _ = backend
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (3, 37, 41, 3), dtype=np.uint8)
    sr = np.clip(hr.astype(np.int16) + rng.integers(-20, 21, hr.shape), 0, 255).astype(np.uint8)
    got = metrics.psnr(
        torch.from_numpy(sr).to(device), torch.from_numpy(hr).to(device), y_only=True, shave=2, layout="NHWC"
    )
    want = [p for p, _ in skimage_loop(sr, hr, shave=2)]
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-12)


def test_identical_images_give_inf_not_nan(backend) -> None:
    device, _ = backend
    x = torch.rand(2, 3, 8, 9, device=device)
    got = metrics.psnr(x, x.clone(), y_only=True, shave=1)
    assert torch.all(torch.isinf(got)) and torch.all(got > 0)


def test_numpy_in_numpy_out_without_copies() -> None:
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (2, 20, 30, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[0, 5, 5, 0] ^= 8
    hr.setflags(write=False)  # read-only arrays are accepted
    got = metrics.psnr(sr, hr, layout="NHWC")
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    mse = 64.0 / (20 * 30 * 3)
    assert got[0] == pytest.approx(10 * math.log10(255**2 / mse), rel=1e-12) and np.isinf(got[1])


def test_grey_images_are_their_own_luma() -> None:
    g = torch.Generator().manual_seed(2)
    a, b = torch.rand(2, 1, 16, 16, generator=g), torch.rand(2, 1, 16, 16, generator=g)
    torch.testing.assert_close(metrics.psnr(a, b, y_only=True), metrics.psnr(a, b, y_only=False), rtol=0, atol=0)
    assert metrics.psnr(a[0, 0], b[0, 0]).shape == (1,)  # (H, W): one grey image


def test_data_range_for_float_inputs() -> None:
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(1, 3, 8, 8, generator=g), torch.rand(1, 3, 8, 8, generator=g)
    torch.testing.assert_close(metrics.psnr(a, b), metrics.psnr(a * 255, b * 255, data_range=255))


@pytest.mark.parametrize(
    ("sr", "hr", "kwargs", "match"),
    [
        (torch.zeros(1, 1, 1, 3, 3), torch.zeros(1, 1, 1, 3, 3), {}, r"must be \(N, C, H, W\)"),
        (torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5), {}, r"shapes differ: \(1, 3, 4, 4\) vs \(1, 3, 4, 5\)"),
        (
            torch.zeros(1, 3, 4, 4, dtype=torch.int32),
            torch.zeros(1, 3, 4, 4, dtype=torch.int32),
            {},
            r"unsupported dtype torch.int32",
        ),
        (torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), {"shave": 4}, r"shave=4 leaves 0x0 pixels"),
        (torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), {"shave": -1}, r"non-negative"),
        (
            torch.zeros(1, 4, 8, 8),
            torch.zeros(1, 4, 8, 8),
            {"y_only": True},
            r"y_only needs 3 \(RGB\) or 1 \(grey\) channels, got 4",
        ),
        (
            torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
            torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
            {"data_range": 1.0},
            r"uint8, so its range is 255",
        ),
        (
            torch.full((2, 3, 8, 8), float("nan")),
            torch.zeros(2, 3, 8, 8),
            {},
            r"contains NaN or Inf \(images \[0, 1\]\)",
        ),
        ([1, 2], [1, 2], {}, r"torch tensor, numpy array or cupy array"),
    ],
)
def test_bad_input_is_named(sr, hr, kwargs, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        metrics.psnr(sr, hr, **kwargs)


def test_nan_in_one_image_is_reported_with_its_index() -> None:
    a, b = torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8)
    a[2, 1, 3, 3] = float("nan")
    with pytest.raises(ValueError, match=r"images \[2\]"):
        metrics.psnr(a, b, quantize=True)  # rounding must not hide the NaN
