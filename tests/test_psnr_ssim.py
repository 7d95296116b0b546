"""psnr_ssim (one read of the images on the C++ path) equals psnr and ssim computed apart."""

from __future__ import annotations

import pytest
import torch

from srkit import metrics, ops

from .references import psnr64, ssim64

# Tall images cover several of the C++ kernel's 32-row strips; Triton's interpreter gets small ones.
SHAPES = [(2, 3, 80, 14), (1, 1, 11, 11), (3, 3, 43, 12)]
SMALL = [(1, 1, 11, 11), (2, 3, 13, 12), (1, 3, 12, 15)]


@pytest.mark.parametrize("index", range(len(SHAPES)))
def test_fused_equals_separate_and_reference(backend, index: int) -> None:
    device, name = backend
    shape = (SMALL if name == "triton" else SHAPES)[index]
    g = torch.Generator().manual_seed(sum(shape))
    hr = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8).to(device)
    sr = (hr.double() / 255 + 0.05 * torch.randn(shape, generator=g, dtype=torch.float64).to(device)).float()
    shave = 0 if min(shape[2:]) < 13 else 1
    kw = dict(y_only=True, shave=shave, quantize=True)
    p, s = metrics.psnr_ssim(sr, hr, **kw)
    assert ops.last_backend("psnr_ssim") == name
    torch.testing.assert_close(p, metrics.psnr(sr, hr, **kw), rtol=1e-12, atol=0)
    torch.testing.assert_close(s, metrics.ssim(sr, hr, **kw), rtol=1e-12, atol=0)
    y = shape[1] == 3
    torch.testing.assert_close(p, psnr64(sr, hr, 255.0, 1.0, True, y, shave), rtol=1e-12, atol=0)
    torch.testing.assert_close(s, ssim64(sr, hr, 255.0, 1.0, True, y, shave), rtol=1e-10, atol=1e-12)


def test_protocol_scores_identical_images() -> None:
    x = torch.randint(0, 256, (2, 3, 20, 20), dtype=torch.uint8)
    p, s = metrics.sr_scores(x, x.clone(), scale=2)
    assert torch.isinf(p).all() and torch.allclose(s, torch.ones(2, dtype=torch.float64))
