"""``srkit.export`` / ``srkit export``: every zoo model and the search space's blocks leave PyTorch as
ONNX (run by ONNX Runtime) or a torch.export program and compute what PyTorch computes; exported
files run again through ``srkit upscale``; ONNX Runtime is a timed runtime of srkit-bench and the
search. Skipped without the ``srkit[onnx]`` extra."""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from srkit import export as ex
from srkit.cli import bench as bench_cli
from srkit.cli.main import main
from srkit.data.io import read_image, write_image
from srkit.inference import Upscaler
from srkit.models import create_model, list_models, save
from srkit.models.base import pad_input
from srkit.models.catalog import BLOCK_TYPES
from srkit.models.upsamplers import UPSAMPLERS
from srkit.profiler import lut
from srkit.train.runfolder import read_config

from .test_models import LIGHT, smallest_scale

# the cheapest configuration of each family (export time grows with depth, not with what is exported)
SMALL = {
    **LIGHT,
    "swinir_light": {"embed_dim": 12, "depths": (2,), "heads": (2,), "window": 4},
    "imdn": {"blocks": 2},
    "rfdn": {"blocks": 2},
    "rlfn": {"blocks": 2},
    "bsrn": {"blocks": 2},
    "srresnet": {"blocks": 2},
    "edsr_baseline": {"blocks": 2},
    "vdsr": {"depth": 4},
    "wdsr_a": {"blocks": 2},
    "wdsr_b": {"blocks": 2},
}


def _small(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(name, scale=smallest_scale(name), **SMALL.get(name, {})).eval()


def _input(model: torch.nn.Module, hw: tuple[int, int] = (19, 26)) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return pad_input(model, torch.rand(1, int(model.in_channels), *hw, generator=g))


def _matches(model: torch.nn.Module, got: torch.Tensor, x: torch.Tensor, atol: float = 1e-4) -> None:
    with torch.no_grad():
        want = ex.prepare(model)(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=0, atol=atol)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_every_zoo_model_exports_to_onnx_and_matches(name: str) -> None:
    model = _small(name)
    om = ex.OnnxModel(ex.to_onnx_bytes(model))  # traced at one size ...
    x = _input(model)  # ... run at another (dynamic shapes)
    _matches(model, om(x), x)
    assert om.scale == model.scale and om.min_size == int(getattr(model, "min_size", 1))
    assert om.meta["srkit.arch"] == name and json.loads(om.meta["srkit.hparams"])["scale"] == model.scale


@pytest.mark.slow
def test_every_search_space_block_and_upsampler_exports() -> None:
    blocks = [{"type": t} if t != "imdb_path" else {"type": t, "path": "101"} for t in BLOCK_TYPES]
    blocks += [{"type": "wdsr_b", "attention": "cca"}, {"type": "imdb", "attention": "cca"}]
    for up in UPSAMPLERS:
        torch.manual_seed(0)
        net = create_model(
            "blocknet", scale=3, channels=16, blocks=blocks if up == UPSAMPLERS[0] else blocks[:1], upsampler=up
        ).eval()
        x = _input(net, (17, 21))
        _matches(net, ex.OnnxModel(ex.to_onnx_bytes(net))(x), x)


def test_weight_norm_is_folded_and_the_original_keeps_working() -> None:
    model = create_model("wdsr_b", scale=2, blocks=1).eval()
    x = torch.rand(1, 3, 13, 11)
    with torch.no_grad():
        before = model(x)
    data = ex.to_onnx_bytes(model)
    import onnx

    names = {n.op_type for n in onnx.load_from_string(data).graph.node}
    assert "DepthToSpace" in names and "ReduceL2" not in names and "Div" not in names  # no weight-norm arithmetic left
    with torch.no_grad():
        assert torch.equal(model(x), before)  # folding a copy left the original's parametrisation alone
    _matches(model, ex.OnnxModel(data)(x), x)


def test_torch_export_program_matches(tmp_path: Path) -> None:
    model = _small("rlfn")
    path = ex.export(model, tmp_path / "rlfn.pt2", fmt="torch-export")
    prog = torch.export.load(str(path)).module()
    for hw in ((24, 31), (57, 40)):  # not the traced size
        x = _input(model, hw)
        _matches(model, prog(x), x)
    with pytest.raises(AssertionError, match="Guard failed"):  # ESA's pooled map would be 1x1: the program says so
        prog(_input(model, (19, 26)))


def test_a_static_fp16_export_pads_smaller_inputs_and_refuses_larger(tmp_path: Path) -> None:
    model = _small("espcn")
    path = ex.export(model, tmp_path / "espcn.onnx", dtype="fp16", dynamic=False, example=torch.zeros(1, 1, 24, 32))
    om = ex.OnnxModel(path)
    assert om.fixed_hw == (24, 32) and om.np_dtype.__name__ == "float16"
    x = torch.rand(1, 1, 20, 30)
    padded = torch.nn.functional.pad(x, (0, 2, 0, 4), mode="replicate")  # edge pixels repeated, as Upscaler pads
    with torch.no_grad():
        want = ex.prepare(model)(padded)[..., :40, :60]
    torch.testing.assert_close(om(x), want, rtol=0, atol=1e-2)  # fp16 weights and activations
    with pytest.raises(ex.ExportError, match="24x32 only"):
        om(torch.rand(1, 1, 25, 30))
    big = torch.randint(0, 256, (1, 1, 50, 70), dtype=torch.uint8)
    assert Upscaler(om)(big).shape == (1, 1, 100, 140)  # larger images run in tiles of the file's size
    with pytest.raises(ex.ExportError, match="expected input.*to have 1 channels"):  # the cause, not the wrapper
        ex.to_onnx_bytes(model, dynamic=False, example=torch.zeros(1, 3, 24, 32))


def test_onnx_model_refuses_files_that_are_not_srkit_exports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ex.ExportError, match="not a loadable ONNX model"):
        ex.OnnxModel(bad)


@pytest.mark.slow
def test_export_cli_checks_and_upscale_runs_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    ckpt = tmp_path / "imdn_x2.safetensors"
    save(create_model("imdn", scale=2, blocks=2), ckpt)
    out = tmp_path / "imdn_x2.onnx"
    assert main(["export", str(ckpt), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    check = json.loads((tmp_path / "imdn_x2.onnx.check.json").read_text())
    assert check["ok"] and check["max_abs_diff"] < 1e-4 and "matches PyTorch" in said
    assert main(["export", str(ckpt), "-o", str(out)]) == 2 and "--overwrite" in capsys.readouterr().err
    assert main(["export", str(ckpt), "-o", str(ckpt), "--overwrite"]) == 2  # never onto its own source
    assert "another name" in capsys.readouterr().err
    img = torch.randint(0, 256, (3, 23, 31), dtype=torch.uint8)
    write_image(tmp_path / "in" / "pic.png", img)
    assert main(["upscale", str(tmp_path / "in"), "-o", str(tmp_path / "a"), "--model", str(out)]) == 0
    assert main(["upscale", str(tmp_path / "in"), "-o", str(tmp_path / "b"), "--model", str(ckpt)]) == 0
    a, b = read_image(tmp_path / "a" / "pic_x2.png"), read_image(tmp_path / "b" / "pic_x2.png")
    assert a.shape == (3, 46, 62) and (a.int() - b.int()).abs().max() <= 1  # uint8 rounding of float noise
    assert main(["upscale", str(tmp_path / "in"), "-o", str(tmp_path / "c"), "--model", str(out), "--scale", "4"]) == 2
    assert "exported for x2, not x4" in capsys.readouterr().err


def test_export_cli_takes_a_searched_genotype(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    geno = tmp_path / "x3_best.json"
    geno.write_text(
        json.dumps(
            {
                "arch": "blocknet",
                "channels": 16,
                "upsampler": "nearest",
                "blocks": [{"type": "wdsr_b", "expansion": 4}, {"type": "rfdb"}],
                "_search": {"psnr": 1},
            }
        )
    )
    out = tmp_path / "found.onnx"
    assert main(["export", str(geno), "--scale", "3", "-o", str(out)]) == 2  # random weights only when asked
    assert "--untrained" in capsys.readouterr().err and not out.exists()
    assert main(["export", str(geno), "--scale", "3", "-o", str(out), "--untrained"]) == 0
    om = ex.OnnxModel(out)
    assert om.scale == 3 and om.min_size == 15 and json.loads((tmp_path / "found.onnx.check.json").read_text())["ok"]
    assert "matches PyTorch" in capsys.readouterr().out


def test_export_cli_names_a_bare_zoo_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "imdn", "-o", str(tmp_path / "x.onnx")]) == 2 and "--weights" in capsys.readouterr().err


def test_an_export_that_fails_its_check_is_never_put_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = tmp_path / "espcn_x2.safetensors"
    save(create_model("espcn", scale=2), ckpt)
    out = tmp_path / "espcn.onnx"
    out.write_bytes(b"the earlier export")
    real = ex.check
    monkeypatch.setattr(ex, "check", lambda *a, **k: dataclasses.replace(real(*a, **k), max_abs_diff=1.0))
    assert main(["export", str(ckpt), "-o", str(out), "--overwrite"]) == 1
    assert out.read_bytes() == b"the earlier export" and "did NOT write" in capsys.readouterr().out
    assert not json.loads((tmp_path / "espcn.onnx.check.json").read_text())["ok"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no unchecked file left


def test_upscaler_runs_an_onnx_model_in_tiles(tmp_path: Path) -> None:
    model = _small("fsrcnn")
    om = ex.OnnxModel(ex.to_onnx_bytes(model))
    lr = torch.randint(0, 256, (1, 1, 37, 29), dtype=torch.uint8)
    want, got = Upscaler(model, tile=16, overlap=4)(lr), Upscaler(om, tile=16, overlap=4)(lr)
    assert got.shape == want.shape == (1, 1, 74, 58) and (got.int() - want.int()).abs().max() <= 1


@pytest.mark.slow
def test_bench_times_onnx_runtime_next_to_eager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_bench_cli import _fast_peaks

    _fast_peaks(monkeypatch)
    rc = bench_cli.main(
        [
            "model",
            "--out",
            str(tmp_path),
            "imdn",
            "--variants",
            "eager",
            "ort",
            "--input",
            "64x64",
            "--reps",
            "3",
            "--no-breakdown",
        ]
    )
    assert rc == 0
    rows = json.loads(next(tmp_path.glob("model_*.json")).read_text())["rows"]
    by = {r["variant"]: r for r in rows}
    assert set(by) == {"eager", "ort"} and by["ort"]["backend_ran"] == "onnxruntime-cpu"
    # taken round by round (the two timed in the same rounds), equal threads
    ratios = [e / o for e, o in zip(by["eager"]["round_ms"], by["ort"]["round_ms"], strict=True)]
    assert by["ort"]["speedup_vs_eager"] == pytest.approx(statistics.median(ratios))
    assert by["ort"]["speedup_vs_eager_min"] == pytest.approx(min(ratios))
    assert by["ort"]["threads"] == by["eager"]["threads"] == torch.get_num_threads()
    assert by["ort"]["max_abs_diff"] < 1e-4


def test_a_table_for_one_runtime_is_refused_for_another(tmp_path: Path) -> None:
    grid = lut.Grid(widths=(8,), sizes=((8, 8),), specs=(lut.Grid().specs[0],), upsamplers=("direct",))
    table = lut.build("cpu", grid, reps=2, max_seconds=0.2, runtime="ort")
    assert table.runtime == "ort" and all(e["backend_ran"].startswith("onnxruntime") for e in table.entries.values())
    path = table.save(tmp_path / "lut.json")
    assert lut.load(path, device="cpu", runtime="ort").entries == table.entries
    with pytest.raises(lut.TableMismatch, match="ort runtime, not torch"):
        lut.load(path, device="cpu", runtime="torch")


@pytest.mark.slow
def test_a_search_on_onnx_runtime_runs_end_to_end(tmp_path: Path) -> None:
    import subprocess

    from .test_search import TINY

    out = tmp_path / "run"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "srkit.cli.search",
            "spos",
            "--out",
            str(out),
            *TINY,
            "--latency-runtime",
            "ort",
            "--generations",
            "1",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    cfg = read_config(out)
    front = json.loads((out / "front.json").read_text())
    assert cfg["latency_runtime"] == "ort" and front["front"] and all(p["latency_ms"] > 0 for p in front["front"])
