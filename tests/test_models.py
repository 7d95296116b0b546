"""Every registered model: builds, maps LR to scale x LR, trains a step, round-trips its weights, and
matches the parameter counts its paper or official file gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from srkit import models, ops
from srkit.models import create_model, list_models, model_entry
from srkit.models.base import padded_hw
from srkit.models.deconasnet import check_genotype, dense_genotype
from srkit.models.span import Conv3XC

# the heaviest defaults run their forward/backward checks at a reduced width (their defaults are
# still built and counted in test_parameter_counts)
LIGHT = {
    "edsr": {"channels": 32, "blocks": 2},
    "rcan": {"groups": 2, "blocks": 2},
    "rdn": {"blocks": 2, "layers": 2},
    "rrdbnet": {"blocks": 2},
    "srvgg_compact": {"convs": 4},
}


def smallest_scale(name: str) -> int:
    return model_entry(name).scales[0]


def small_input(model: torch.nn.Module, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    side = max(int(getattr(model, "min_size", 1)), 11)
    h, w = padded_hw(model, (side + 2, side))  # odd and non-square where the model takes any size
    return torch.rand(2, model.in_channels, h, w, generator=g)


@pytest.mark.parametrize("name", list_models())
def test_forward_shape_and_finite(name: str) -> None:
    s = smallest_scale(name)
    m = create_model(name, scale=s, **LIGHT.get(name, {})).eval()
    x = small_input(m, seed=len(name))
    with torch.no_grad():
        y = m(x)
    assert y.shape == (2, m.in_channels, x.shape[2] * s, x.shape[3] * s)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", list_models())
def test_train_step_gives_finite_gradients(name: str) -> None:
    torch.manual_seed(0)
    m = create_model(name, scale=smallest_scale(name), **LIGHT.get(name, {})).train()
    x = small_input(m, seed=1)
    loss = m(x).abs().mean()
    loss.backward()
    grads = [p.grad for p in m.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", list_models())
def test_safetensors_round_trip(name: str, tmp_path: Path) -> None:
    s = smallest_scale(name)
    m = create_model(name, scale=s, **LIGHT.get(name, {})).eval()
    with torch.no_grad():
        for p in m.parameters():  # not the initial values: a load that silently kept them would pass
            p.add_(torch.randn_like(p) * 1e-3)
    path = tmp_path / f"{name}.safetensors"
    models.save(m, path)
    back = models.load(path)
    assert back.arch == name and back.hparams == m.hparams
    x = small_input(m, seed=3)
    with torch.no_grad():
        assert torch.equal(m(x), back(x))


def _configs() -> list[tuple[str, dict, int, int, str]]:
    return [
        (name, cfg, count, unit, src)
        for name in list_models()
        for cfg, count, unit, src in model_entry(name).paper_params
    ]


@pytest.mark.parametrize(
    ("name", "cfg", "count", "unit", "src"), _configs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_parameter_counts(name: str, cfg: dict, count: int, unit: int, src: str) -> None:
    m = create_model(name, **cfg)
    # SwinIR's published counts leave out the relative-position bias tables
    n = sum(p.numel() for k, p in m.named_parameters() if "relative_position_bias_table" not in k)
    assert abs(n - count) < unit, f"{name} {cfg}: {n:,} parameters, {src} says {count:,} (to {unit})"


def test_every_zoo_family_of_the_issue_is_registered() -> None:
    wanted = {
        "srcnn",
        "srcnn_ps",
        "fsrcnn",
        "espcn",
        "vdsr",
        "lapsrn",
        "edsr",
        "edsr_baseline",
        "wdsr_a",
        "wdsr_b",
        "rdn",
        "srresnet",
        "carn",
        "carn_m",
        "imdn",
        "rfdn",
        "rlfn",
        "span",
        "swinir_light",
        "deconasnet",
    }
    assert wanted <= set(list_models())


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(KeyError, match="did you mean.*imdn"):
        create_model("imdnn")


def test_bad_scale_and_argument_are_named() -> None:
    with pytest.raises(ValueError, match="lapsrn supports scales"):
        create_model("lapsrn", scale=3)
    with pytest.raises(TypeError, match="no argument.*widht"):
        create_model("imdn", widht=3)


def test_srgan_discriminator_scores_each_image() -> None:
    for act in ("lrelu", "prelu"):
        d = models.SRGANDiscriminator(blocks=3, kernel_size=5, channels=16, act=act)
        assert d(torch.rand(3, 3, 40, 36)).shape == (3,)
    g = create_model("srresnet", scale=2, blocks=8, kernel_size=5, channels=16, act="relu")
    assert g(torch.rand(1, 3, 9, 8)).shape == (1, 3, 18, 16)


@pytest.mark.parametrize("channels_last", [False, True])
def test_span_fold_equals_the_training_branches_away_from_the_border(channels_last: bool) -> None:
    torch.manual_seed(0)
    c = Conv3XC(5, 7).double().train()
    if channels_last:  # branch weights in either layout fold alike
        c = c.to(memory_format=torch.channels_last)
    x = torch.randn(2, 5, 13, 11, dtype=torch.float64)
    train_out = c(x)
    c.eval()
    eval_out = c(x)
    torch.testing.assert_close(eval_out[..., 1:-1, 1:-1], train_out[..., 1:-1, 1:-1], rtol=1e-10, atol=1e-10)


def test_wdsr_fold_weight_norm_keeps_the_output() -> None:
    torch.manual_seed(0)
    for name in ("wdsr_a", "wdsr_b"):
        m = create_model(name, scale=2, blocks=2).eval()
        x = torch.rand(1, 3, 9, 10)
        with torch.no_grad():
            before = m(x)
            after = m.fold_weight_norm()(x)
        torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
        assert not any("parametrizations" in k for k in m.state_dict())


def test_deconasnet_genotype_is_checked_and_shapes_the_network() -> None:
    with pytest.raises(ValueError, match="block 0 layer 2 reads \\[2\\]"):
        check_genotype([[[0], [2]]])
    sparse = [[[0], [1], [0, 2]], [[0], [0, 1]]]
    m = create_model("deconasnet", scale=2, genotype=sparse, channels=8)
    dense = create_model("deconasnet", scale=2, genotype=dense_genotype(2, 3), channels=8)
    assert sum(p.numel() for p in m.parameters()) < sum(p.numel() for p in dense.parameters())
    assert m(torch.rand(1, 3, 7, 9)).shape == (1, 3, 14, 18)


def test_carn_multi_scale_heads() -> None:
    m = create_model("carn_m", scale=3, scales=(2, 3, 4)).eval()
    assert m(torch.rand(1, 3, 8, 8)).shape == (1, 3, 24, 24)
    with pytest.raises(ValueError, match="not among its heads"):
        create_model("carn", scale=3, scales=(2, 4))


def test_imdn_fused_and_reference_paths_agree(backend: tuple[str, str]) -> None:
    """IMDN on each backend (its CCA statistics and pixel shuffle run through srkit's ops) equals
    the same network on the torch reference, in float64."""
    device, name = backend
    torch.manual_seed(0)
    m = create_model("imdn", scale=2, blocks=2).double().eval().to(device)
    x = torch.rand(1, 3, 10, 13, dtype=torch.float64, device=device)
    with torch.no_grad():
        y = m(x)
        with ops.use_backend("torch", strict=True):
            ref = m(x)
    assert ops.last_backend("channel_stats") == "torch"
    torch.testing.assert_close(y, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list_models())
def test_every_model_describes_itself(name: str) -> None:
    s = smallest_scale(name)
    m = create_model(name, scale=s, **LIGHT.get(name, {}))
    info = m.info
    assert (info.arch, info.scale, info.in_channels) == (name, s, m.in_channels)
    assert info.min_size == m.min_size and info.size_multiple == m.size_multiple
    assert info.params == sum(p.numel() for p in m.parameters()) and info.hparams["scale"] == s
    assert info.tiling == "supported" or info.tiling.startswith("discouraged: ")
