"""The evaluation protocol on real data (../shared/data): MATLAB's LR files, the bicubic baseline and
RCAN's MATLAB scores. Skips when the shared data is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from srkit import metrics
from srkit.data import imresize, read_image
from srkit.data.degrade import bicubic_lr
from srkit.metrics.protocol import sr_scores
from srkit.ops import use_backend

NAMES = ("baby", "bird", "butterfly", "head", "woman")
BICUBIC = {2: 33.674, 3: 30.405, 4: 28.430}  # SOURCES.md, this protocol on these files
RCAN = {2: (38.274168, 0.961445), 3: (34.742155, 0.929886), 4: (32.633562, 0.900241)}  # RCAN's MATLAB


def set5(root: Path, scale: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [
        (
            read_image(root / "datasets/Set5/HR" / f"{n}.png"),
            read_image(root / f"datasets/Set5/LR_bicubic/X{scale}/{n}x{scale}.png"),
        )
        for n in NAMES
    ]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_lr_equals_matlab_files_bit_for_bit(shared_data: Path, scale: int) -> None:
    for hr, lr_matlab in set5(shared_data, scale):
        lr = bicubic_lr(hr, scale)
        assert lr.shape == lr_matlab.shape
        assert torch.equal(lr, lr_matlab)


def test_batched_resize_equals_per_image() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, 3, 24, 30), generator=g, dtype=torch.uint8)
    batched = imresize(x, 1 / 3)
    assert torch.equal(batched, torch.stack([imresize(im, 1 / 3) for im in x]))


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("backend_name", ["cpp", "torch"])
def test_bicubic_baseline_and_rcan_scores(shared_data: Path, scale: int, backend_name: str) -> None:
    with use_backend(backend_name, strict=True):
        psnrs, rcan_p, rcan_s = [], [], []
        for (hr, lr), name in zip(set5(shared_data, scale), NAMES, strict=True):
            sr = imresize(lr, scale)
            gt = hr[:, : sr.shape[1], : sr.shape[2]]
            psnrs.append(float(sr_scores(sr[None], gt[None], scale)[0][0]))
            rcan = read_image(shared_data / f"reference/rcan_set5_BI/x{scale}/{name}_RCAN_x{scale}.png")
            p, s = sr_scores(rcan[None], hr[None, :, : rcan.shape[1], : rcan.shape[2]], scale)
            rcan_p.append(float(p[0]))
            rcan_s.append(float(s[0]))
    assert sum(psnrs) / 5 == pytest.approx(BICUBIC[scale], abs=0.02)
    assert sum(rcan_p) / 5 == pytest.approx(RCAN[scale][0], abs=1e-4)
    assert sum(rcan_s) / 5 == pytest.approx(RCAN[scale][1], abs=1e-4)


def test_triton_scores_real_images_like_cpp(shared_data: Path) -> None:
    """Triton's interpreter is slow: one RCAN image, cropped, against the C++ kernels."""
    hr = read_image(shared_data / "datasets/Set5/HR/butterfly.png")[None, :, :64, :80]
    sr = read_image(shared_data / "reference/rcan_set5_BI/x4/butterfly_RCAN_x4.png")[None, :, :64, :80]
    kw = dict(y_only=True, shave=4, quantize=True)
    with use_backend("cpp", strict=True):
        want = (metrics.psnr(sr, hr, **kw), metrics.ssim(sr, hr, **kw))
    with use_backend("triton", strict=True):
        got = (metrics.psnr(sr, hr, **kw), metrics.ssim(sr, hr, **kw))
    torch.testing.assert_close(got[0], want[0], rtol=1e-12, atol=0)
    torch.testing.assert_close(got[1], want[1], rtol=1e-12, atol=0)


def test_published_numbers_file_is_readable(shared_data: Path) -> None:
    pub = json.loads((shared_data / "reference/published_numbers.json").read_text())
    assert pub["IMDN"]["x4"]["Set5"] == [32.21, 0.8948]
