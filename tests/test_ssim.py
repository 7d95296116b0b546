"""Batched SSIM: every backend against a float64 reference and scikit-image; inputs; errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from srkit import metrics, ops
from srkit.reference.ssim import skimage_loop

from .layouts import LAYOUTS, in_layout
from .references import ssim64
from .test_psnr import DTYPES, image_batch


@settings(max_examples=10)  # each example runs 121 window taps per pixel through Triton's interpreter
@given(
    n=st.integers(1, 2),
    c=st.sampled_from([1, 3]),
    h=st.integers(11, 27),
    w=st.integers(11, 45),
    sr_dtype=st.sampled_from(DTYPES),
    hr_dtype=st.sampled_from(DTYPES),
    layout=st.sampled_from(LAYOUTS),
    y_only=st.booleans(),
    quantize=st.booleans(),
    shave=st.integers(0, 2),
    seed=st.integers(0, 2**31 - 1),
)
def test_matches_float64_reference(
    backend, n, c, h, w, sr_dtype, hr_dtype, layout, y_only, quantize, shave, seed
) -> None:
    device, name = backend
    if min(h, w) - 2 * shave < 11:
        shave = 0
    gen = torch.Generator().manual_seed(seed)
    hr, hm = image_batch((n, c, h, w), hr_dtype, gen, device)
    sr, sm = image_batch((n, c, h, w), sr_dtype, gen, device)
    sr = in_layout(
        (sr.double() * 0.3 + hr.double() * (0.7 * sm / hm)).to(sr_dtype) if sr_dtype.is_floating_point else sr, layout
    )
    got = metrics.ssim(sr, hr, y_only=y_only, shave=shave, quantize=quantize)
    assert ops.last_backend("ssim") == name
    want = ssim64(sr, hr, sm, hm, quantize, y_only and c == 3, shave)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("y_only", [True, False])
def test_matches_scikit_image(backend, y_only: bool) -> None:
    device, _ = backend
    rng = np.random.default_rng(4)
    hr = rng.integers(0, 256, (2, 29, 34, 3), dtype=np.uint8)
    sr = np.clip(hr.astype(np.int16) + rng.integers(-30, 31, hr.shape), 0, 255).astype(np.uint8)
    got = metrics.ssim(
        torch.from_numpy(sr).to(device), torch.from_numpy(hr).to(device), y_only=y_only, shave=3, layout="NHWC"
    )
    want = [s for _, s in skimage_loop(sr, hr, shave=3, y_only=y_only)]
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-10)


def test_identical_images_score_one(backend) -> None:
    device, _ = backend
    x = torch.rand(2, 3, 13, 17, device=device)
    torch.testing.assert_close(
        metrics.ssim(x, x.clone(), y_only=True), torch.ones(2, dtype=torch.float64, device=device)
    )


@pytest.mark.parametrize(
    ("shape", "kwargs", "match"),
    [
        ((1, 3, 10, 30), {}, r"leaves 10x30 pixels .* at least 11x11"),
        ((1, 3, 20, 20), {"shave": 5}, r"shave=5 leaves 10x10"),
    ],
)
def test_too_small_is_named(shape, kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        metrics.ssim(torch.zeros(shape), torch.zeros(shape), **kwargs)


def test_nan_is_reported() -> None:
    a, b = torch.rand(2, 1, 12, 12), torch.rand(2, 1, 12, 12)
    b[1, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"NaN or Inf \(images \[1\]\)"):
        metrics.ssim(a, b)
