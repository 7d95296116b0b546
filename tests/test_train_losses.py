"""The perceptual loss (VGG19 features from a user's file) and the model-level RGB mean subtraction."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from srkit.models import create_model, load, save
from srkit.train.data import rgb_mean
from srkit.train.losses import make_loss, parse_loss
from srkit.train.perceptual import PerceptualError, PerceptualLoss, layer_index, vgg19_features


def fake_vgg19(path: Path, seed: int = 0) -> dict[str, torch.Tensor]:
    """A file in torchvision's vgg19 layout (random weights; classifier keys too, as the real file has)."""
    torch.manual_seed(seed)
    feats = vgg19_features(36)
    sd = {f"features.{k}": v for k, v in feats.state_dict().items()}
    sd["classifier.0.weight"] = torch.randn(4, 8)
    torch.save(sd, path)
    return sd


def test_layer_indices_are_torchvisions() -> None:
    # torchvision's vgg19().features: relu1_2 = 3, relu2_2 = 8, relu3_4 = 17, relu4_4 = 26, conv5_4 = 34, relu5_4 = 35
    assert [layer_index(n) for n in ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "conv5_4", "relu5_4")] == [
        3,
        8,
        17,
        26,
        34,
        35,
    ]
    assert len(vgg19_features(36)) == 37
    with pytest.raises(PerceptualError, match="relu2_3"):
        layer_index("relu2_3")  # stage 2 has two convs


def test_perceptual_loss_matches_the_definition(tmp_path: Path) -> None:
    sd = fake_vgg19(tmp_path / "vgg19.pth")
    loss = PerceptualLoss(tmp_path / "vgg19.pth", "relu2_2", "mse").double()
    sr, hr = torch.rand(2, 3, 19, 23, dtype=torch.float64), torch.rand(2, 3, 19, 23, dtype=torch.float64)
    # reference: the network by hand from the file's tensors, float64
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)

    def feats(x: torch.Tensor) -> torch.Tensor:
        x = (x - mean) / std
        for i in (0, 2):
            x = F.relu(F.conv2d(x, sd[f"features.{i}.weight"].double(), sd[f"features.{i}.bias"].double(), padding=1))
        x = F.max_pool2d(x, 2)
        for i in (5, 7):
            x = F.relu(F.conv2d(x, sd[f"features.{i}.weight"].double(), sd[f"features.{i}.bias"].double(), padding=1))
        return x

    ref = F.mse_loss(feats(sr), feats(hr))
    got = loss(sr.clone().requires_grad_(True), hr)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)
    assert float(loss(hr, hr)) == 0.0
    x = sr.clone().requires_grad_(True)
    loss(x, hr).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.parameters())  # the VGG is frozen
    grey = torch.rand(1, 1, 16, 16)
    assert torch.isfinite(loss.float()(grey, grey.flip(-1)))  # one-channel models: Y repeated


def test_perceptual_loss_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(PerceptualError, match="needs VGG19 weights: set perceptual.weights"):
        PerceptualLoss(None)
    with pytest.raises(PerceptualError, match="no such checkpoint file"):
        PerceptualLoss(tmp_path / "missing.pth")
    torch.save(
        {"features.0.weight": torch.zeros(64, 3, 5, 5), "features.0.bias": torch.zeros(64)}, tmp_path / "bad.pth"
    )
    with pytest.raises(PerceptualError, match="does not match.*features|shape mismatch.*0.weight"):
        PerceptualLoss(tmp_path / "bad.pth", "relu1_1")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(PerceptualError, match="corrupt, truncated"):
        PerceptualLoss(tmp_path / "junk.pth")


def test_loss_specs() -> None:
    assert parse_loss("mse + perceptual*0.006") == [("mse", 1.0), ("perceptual", 0.006)]
    with pytest.raises(ValueError, match="unknown term 'l2'"):
        parse_loss("l2")
    with pytest.raises(ValueError, match="needs its module"):
        make_loss("l1+perceptual")
    sr, hr = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    f = make_loss("l1+tv*0.5", {})
    torch.testing.assert_close(
        f(sr, hr),
        F.l1_loss(sr, hr)
        + 0.5 * ((sr[..., 1:, :] - sr[..., :-1, :]).abs().mean() + (sr[..., 1:] - sr[..., :-1]).abs().mean()),
    )


def test_input_mean_shifts_any_model_and_survives_a_checkpoint(tmp_path: Path) -> None:
    mean = [0.4488, 0.4371, 0.404]
    torch.manual_seed(0)
    plain = create_model("espcn", scale=3, in_channels=3)
    torch.manual_seed(0)
    shifted = create_model("espcn", scale=3, in_channels=3, input_mean=mean)
    assert shifted.state_dict().keys() == plain.state_dict().keys()  # the mean is no weight
    x = torch.rand(2, 3, 11, 7)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    torch.testing.assert_close(shifted(x), plain(x - m) + m)
    save(shifted, tmp_path / "m.safetensors")
    again = load(tmp_path / "m.safetensors")
    torch.testing.assert_close(again(x), shifted(x))
    with pytest.raises(ValueError, match="input_mean has 3 values for 1 channels"):
        create_model("espcn", scale=2, input_mean=mean)


def test_input_std_scales_in_and_out_and_survives_a_checkpoint(tmp_path: Path) -> None:
    mean = [0.4488, 0.4371, 0.404]
    torch.manual_seed(0)
    plain = create_model("espcn", scale=2, in_channels=3)
    torch.manual_seed(0)
    wdsr_like = create_model("espcn", scale=2, in_channels=3, input_mean=mean, input_std=0.5)
    x = torch.rand(1, 3, 9, 13)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    torch.testing.assert_close(wdsr_like(x), plain((x - m) * 2) * 0.5 + m)
    assert wdsr_like.hparams["input_std"] == 0.5
    save(wdsr_like, tmp_path / "m.safetensors")
    torch.testing.assert_close(load(tmp_path / "m.safetensors")(x), wdsr_like(x))
    assert "input_std" not in create_model("espcn", scale=2, in_channels=3, input_mean=mean).hparams
    with pytest.raises(ValueError, match="input_std=0.5 needs an input_mean"):
        create_model("espcn", scale=2, input_std=0.5)
    with pytest.raises(ValueError, match="input_std must be positive"):
        create_model("espcn", scale=2, in_channels=3, input_mean=mean, input_std=0.0)


def test_rgb_mean_specs() -> None:
    hr = torch.zeros(3, 4, 4, dtype=torch.uint8)
    hr[0] = 255
    pairs = [("a", hr, hr[:, :2, :2]), ("b", torch.full((3, 2, 2), 51, dtype=torch.uint8), hr[:, :1, :1])]
    # every HR pixel counts once: red (16 * 255 + 4 * 51) / 20 / 255, green and blue 4 * 51 / 20 / 255
    torch.testing.assert_close(
        torch.tensor(rgb_mean("data", pairs, 3)), torch.tensor([0.84, 0.04, 0.04]), rtol=0, atol=1e-7
    )
    assert rgb_mean("none", pairs, 3) is None
    assert rgb_mean("0.5,0.4,0.3", pairs, 3) == [0.5, 0.4, 0.3]
    (y,) = rgb_mean("1,1,1", pairs, 1)  # type: ignore[misc]
    assert y == pytest.approx((235.0 - 16.0) / 219.0)  # white is Y 235 on the MATLAB scale: 1.0
