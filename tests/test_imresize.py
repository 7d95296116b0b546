"""MATLAB-compatible bicubic resize: the algorithm's properties (Set5 bit-exactness lives in
test_protocol_set5.py), colour conversion and cropping."""

from __future__ import annotations

import pytest
import torch

from srkit.data import imresize, modcrop, rgb2ycbcr, rgb_to_y, ycbcr2rgb
from srkit.data.imresize import cubic, weight_matrix


def test_kernel_is_keys_cubic_with_a_minus_half() -> None:
    x = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], dtype=torch.float64)
    want = torch.tensor([1.0, 0.5625, 0.0, -0.0625, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(cubic(x), want)


@pytest.mark.parametrize(("n_in", "n_out"), [(12, 3), (12, 4), (12, 6), (5, 20), (7, 7)])
def test_rows_of_the_weight_matrix_sum_to_one(n_in: int, n_out: int) -> None:
    m = weight_matrix(n_in, n_out, n_out / n_in)
    torch.testing.assert_close(m.sum(1), torch.ones(n_out, dtype=torch.float64))


def test_scale_one_is_identity_and_constant_images_stay_constant() -> None:
    x = torch.randint(0, 256, (2, 3, 9, 11), dtype=torch.uint8)
    assert torch.equal(imresize(x, 1.0), x)
    c = torch.full((1, 3, 12, 12), 77, dtype=torch.uint8)
    assert torch.equal(imresize(c, 1 / 4), torch.full((1, 3, 3, 3), 77, dtype=torch.uint8))
    assert torch.equal(imresize(c, 3), torch.full((1, 3, 36, 36), 77, dtype=torch.uint8))


def test_uint8_rounds_after_each_pass_float_does_not() -> None:
    g = torch.Generator().manual_seed(5)
    x = torch.randint(0, 256, (1, 1, 16, 16), generator=g, dtype=torch.uint8)
    u8 = imresize(x, 1 / 2)
    f = imresize(x.double(), 1 / 2)
    assert u8.dtype == torch.uint8 and f.dtype == torch.float64
    assert (u8.double() - f).abs().max() <= 1.0  # two roundings can move a value by at most one level
    assert not torch.equal(f, f.round())


def test_output_size_and_errors() -> None:
    x = torch.zeros(3, 10, 7)
    assert imresize(x, 1 / 3).shape == (3, 4, 3)  # ceil, as MATLAB
    assert imresize(x, size=(5, 9)).shape == (3, 5, 9)
    with pytest.raises(ValueError, match="exactly one of scale and size"):
        imresize(x)
    with pytest.raises(TypeError, match="unsupported dtype"):
        imresize(torch.zeros(4, 4, dtype=torch.int32), 2)


def test_modcrop_is_top_left() -> None:
    x = torch.arange(7 * 10).reshape(1, 7, 10)
    assert torch.equal(modcrop(x, 3), x[:, :6, :9])


def test_ycbcr_matches_matlab_and_round_trips() -> None:
    white = torch.ones(3, 1, 1, dtype=torch.float64)
    torch.testing.assert_close(rgb2ycbcr(white).flatten(), torch.tensor([235, 128, 128], dtype=torch.float64) / 255)
    x = torch.rand(2, 3, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(ycbcr2rgb(rgb2ycbcr(x)), x)
    torch.testing.assert_close(rgb_to_y(x), rgb2ycbcr(x)[:, :1] * 255)
    u8 = (x * 255).round().to(torch.uint8)
    assert rgb2ycbcr(u8).dtype == torch.uint8
