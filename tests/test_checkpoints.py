"""Checkpoints: srkit's safetensors files, the official releases in ../shared/data/weights, and
clear errors for truncated, corrupt or mismatched files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from srkit import models, ops
from srkit.evaluate import evaluate, summary
from srkit.inference import Upscaler
from srkit.models import CheckpointError, create_model, load

# (file, load kwargs, architecture, parameter count of the file as SOURCES.md gives it)
OFFICIAL = [
    ("imdn_x2.pth", {}, "imdn", 694_404),
    ("imdn_x3.pth", {}, "imdn", 703_059),
    ("imdn_x4.pth", {}, "imdn", 715_176),
    ("rlfn_x2.pth", {}, "rlfn", 526_856),
    ("rlfn_x4.pth", {}, "rlfn", 543_740),
    ("rlfn_ntire_x4.pth", {}, "rlfn", 317_218),
    ("rfdn_aim2020_x4.pth", {}, "rfdn", 433_448),
    ("span_ch28_ntire24_x4.pth", {}, "span", 150_688),
    ("spantiny_ch26_ntire24_x4.pth", {}, "span", 130_828),
    ("efdn_ntire_x4.pth", {}, "efdn", 276_192),
    ("bsrn_s_ntire22_x4.pth", {}, "bsrn", 156_288),
    ("carn_m_x234.pth", {"scale": 3}, "carn_m", 414_811),
    ("fsrcnn_x2.pth", {}, "fsrcnn", 12_809),
    ("fsrcnn_x3.pth", {}, "fsrcnn", 12_809),
    ("fsrcnn_x4.pth", {}, "fsrcnn", 12_809),
]
# IMDN's published Set5 scores (PSNR dB, SSIM) at x2 / x3 / x4
IMDN_SET5 = {2: (38.00, 0.9605), 3: (34.36, 0.9270), 4: (32.21, 0.8948)}


@pytest.mark.parametrize(("fname", "kwargs", "arch", "count"), OFFICIAL, ids=[o[0] for o in OFFICIAL])
def test_official_checkpoint_loads_and_runs(shared_data: Path, fname: str, kwargs: dict, arch: str, count: int) -> None:
    m = models.load(shared_data / "weights" / fname, **kwargs)
    assert m.arch == arch and not m.training
    n = sum(v.numel() for v in m.state_dict().values() if v.is_floating_point())
    assert n == count
    x = torch.rand(1, m.in_channels, 16, 18)
    with torch.no_grad():
        y = m(x)
    assert y.shape == (1, m.in_channels, 16 * m.scale, 18 * m.scale) and torch.isfinite(y).all()


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("path", ["cpp", "torch"])
def test_imdn_reproduces_the_paper_on_set5(shared_data: Path, scale: int, path: str) -> None:
    """The official IMDN weights score the published Set5 numbers (to 0.01 dB / 0.0005) with srkit's
    protocol, on srkit's C++ ops and on the PyTorch reference alike."""
    m = models.load(shared_data / "weights" / f"imdn_x{scale}.pth")
    up = Upscaler(m)
    with ops.use_backend(path, strict=True), ops.trace() as calls:
        res = summary(evaluate(lambda lr, s: up(lr), str(shared_data / "datasets/Set5"), scale))
    assert {c.backend for c in calls if c.op == "channel_stats"} == {path}
    psnr, ssim = IMDN_SET5[scale]
    assert res["mean_psnr"] == pytest.approx(psnr, abs=0.01)
    assert res["mean_ssim"] == pytest.approx(ssim, abs=0.0005)


def test_rlfn_matches_its_paper_on_set5(shared_data: Path) -> None:
    up = Upscaler(models.load(shared_data / "weights" / "rlfn_x4.pth"))
    res = summary(evaluate(lambda lr, s: up(lr), str(shared_data / "datasets/Set5"), 4))
    assert res["mean_psnr"] == pytest.approx(32.24, abs=0.01) and res["mean_ssim"] == pytest.approx(0.8952, abs=0.0005)


def test_multi_scale_file_needs_a_scale(shared_data: Path) -> None:
    with pytest.raises(CheckpointError, match="multi-scale carn_m.*pass scale="):
        models.load(shared_data / "weights" / "carn_m_x234.pth")
    with pytest.raises(CheckpointError, match="not x8"):
        models.load(shared_data / "weights" / "carn_m_x234.pth", scale=8)


def test_official_file_with_the_wrong_architecture_or_scale(shared_data: Path) -> None:
    with pytest.raises(CheckpointError, match="holds a imdn network, not rfdn"):
        models.load(shared_data / "weights" / "imdn_x4.pth", arch="rfdn")
    with pytest.raises(CheckpointError, match="x4 imdn network, not x2"):
        models.load(shared_data / "weights" / "imdn_x4.pth", scale=2)


def test_truncated_official_file(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "weights" / "imdn_x4.pth").read_bytes()
    bad = tmp_path / "imdn_x4.pth"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt, truncated"):
        models.load(bad)


def _saved(tmp_path: Path) -> Path:
    m = create_model("espcn", scale=2, in_channels=3)
    path = tmp_path / "espcn.safetensors"
    models.save(m, path)
    return path


def test_truncated_and_empty_safetensors(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        models.load(path)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty file"):
        models.load(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        models.load(tmp_path / "missing.pth")


def test_garbage_pth(tmp_path: Path) -> None:
    path = tmp_path / "x.pth"
    path.write_bytes(b"\x80\x02not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="cannot be read as a PyTorch checkpoint"):
        models.load(path)


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "hook": Path("x")}, path)  # an arbitrary class in the pickle
    with pytest.raises(CheckpointError, match="pickles code"):
        models.load(path)


def test_mismatched_state_dict_names_the_tensors(tmp_path: Path) -> None:
    sd = create_model("imdn", scale=4).state_dict()
    sd["fea_conv.weight"] = torch.zeros(64, 3, 5, 5)
    del sd["LR_conv.bias"]
    sd["extra.weight"] = torch.zeros(1)
    path = tmp_path / "imdn_x4.pth"
    torch.save({"params": sd}, path)
    with pytest.raises(
        CheckpointError,
        match=r"shape mismatch.*fea_conv.weight: file \(64, 3, 5, 5\).*missing: LR_conv.bias.*unexpected: extra.weight",
    ):
        models.load(path)


def test_unknown_architecture_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.pth"
    torch.save({"foo.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(CheckpointError, match="no srkit architecture matches.*foo.weight"):
        models.load(path)


def test_wrapped_and_prefixed_state_dicts_load(tmp_path: Path) -> None:
    m = create_model("rlfn", scale=2, channels=8, mid=8, blocks=1, esa_channels=4)
    path = tmp_path / "rlfn_x2.pth"
    torch.save({"params_ema": {f"module.{k}": v for k, v in m.state_dict().items()}, "iter": 5}, path)
    back = models.load(path, io_range=1.0)
    x = torch.rand(1, 3, 16, 17)
    with torch.no_grad():
        torch.testing.assert_close(back(x), m(x))


def test_saved_metadata_records_the_architecture(tmp_path: Path) -> None:
    from safetensors import safe_open

    path = _saved(tmp_path)
    with safe_open(str(path), framework="pt") as f:
        info = json.loads(f.metadata()["srkit"])
    assert (
        info["arch"] == "espcn"
        and info["hparams"] == {"scale": 2, "in_channels": 3}
        and info["input_range"] == [0.0, 1.0]
    )


def test_a_scale_named_in_the_file_is_checked_where_the_weights_cannot_tell(tmp_path: Path) -> None:
    sd = create_model("fsrcnn", scale=2).state_dict()
    torch.save(sd, tmp_path / "fsrcnn_x2.pth")
    assert load(tmp_path / "fsrcnn_x2.pth").scale == 2
    with pytest.raises(CheckpointError, match=r"fsrcnn_x2.pth: the file name says x2, not x4"):
        load(tmp_path / "fsrcnn_x2.pth", scale=4)


def test_a_truncated_legacy_pickle_is_a_checkpoint_error(tmp_path: Path) -> None:
    buf = tmp_path / "full.pth"
    torch.save(create_model("fsrcnn", scale=2).state_dict(), buf, _use_new_zipfile_serialization=False)
    data = buf.read_bytes()
    for cut in (2, 8, 64, len(data) // 2, len(data) - 1):
        (tmp_path / "cut_x2.pth").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="cannot be read as a PyTorch checkpoint"):
            load(tmp_path / "cut_x2.pth")


@pytest.mark.parametrize("meta", ["{not json", '{"arch": 3}', '["imdn"]'])
def test_bad_srkit_metadata_in_safetensors_is_a_checkpoint_error(tmp_path: Path, meta: str) -> None:
    from safetensors.torch import save_file

    save_file(create_model("fsrcnn", scale=2).state_dict(), str(tmp_path / "m.safetensors"), metadata={"srkit": meta})
    with pytest.raises(CheckpointError, match="metadata is not srkit's"):
        load(tmp_path / "m.safetensors")


def _tiny_rlfn() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("rlfn", scale=2, channels=8, mid=8, blocks=1, esa_channels=4, io_range=255.0).eval()


@pytest.mark.parametrize(
    "wrapper",
    ["dataparallel", "compiled", "lightning", "lightning_any_attribute", "averaged_model", "timm_ema", "basicsr_both"],
)
def test_training_wrappers_load(wrapper: str, tmp_path: Path) -> None:
    m = _tiny_rlfn()
    sd = m.state_dict()
    other = {k: torch.zeros_like(v) for k, v in sd.items()}  # the non-EMA copy, which must not be taken
    files = {
        "dataparallel": {f"module.{k}": v for k, v in sd.items()},
        "compiled": {f"_orig_mod.{k}": v for k, v in sd.items()},
        "lightning": {"epoch": 3, "state_dict": {f"model.{k}": v for k, v in sd.items()}, "optimizer_states": []},
        "lightning_any_attribute": {"global_step": 7, "state_dict": {f"sr_net.{k}": v for k, v in sd.items()}},
        "averaged_model": {**{f"module.{k}": v for k, v in sd.items()}, "n_averaged": torch.tensor(4)},
        "timm_ema": {"state_dict": other, "state_dict_ema": sd, "epoch": 1},
        "basicsr_both": {"params": other, "params_ema": sd},
    }
    path = tmp_path / "rlfn_x2.pth"
    torch.save(files[wrapper], path)
    back = models.load(path)
    x = torch.rand(1, 3, 16, 17)
    with torch.no_grad():
        assert torch.equal(back(x), m(x))


def test_a_shared_prefix_that_hides_nothing_known_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.pth"
    torch.save({"state_dict": {"sr_net.foo.weight": torch.zeros(2)}}, path)
    with pytest.raises(
        CheckpointError, match=r"no srkit architecture matches.*sr_net\.foo\.weight.*nor without the 'sr_net\.'"
    ):
        models.load(path)
