"""The srkit command line: info and eval, in-process and through the installed entry points."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from srkit.cli.main import main

from .test_protocol_set5 import BICUBIC


def test_info_reports_versions_build_and_backends(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["extension"]["built"] is True
    assert info["ops"]["psnr"]["cpu"]["backend"] == "cpp"
    assert set(info["backends"]["cpu"]) == {"triton", "cuda", "cpp", "torch"}
    # the real implementation tables: nothing falls back on the CPU; the WDSR ops choose PyTorch's
    # oneDNN convolutions there (measured faster than their C++ kernels), which is no fallback
    assert info["ops"]["channel_stats"]["cpu"] == {"backend": "cpp", "instead_of": None, "because": None}
    for op in ("wide_pointwise", "conv_epilogue", "wide_pointwise_backward"):
        assert info["ops"][op]["cpu"] == {"backend": "torch", "instead_of": None, "because": None}
    assert all(v["cpu"]["instead_of"] is None for v in info["ops"].values())


def test_eval_bicubic_on_set5_writes_json(shared_data: Path, tmp_path: Path) -> None:
    assert (
        main(
            [
                "eval",
                "--model",
                "bicubic",
                "--data",
                str(shared_data / "datasets/Set5"),
                "--scale",
                "4",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    res = json.loads((tmp_path / "eval_bicubic_Set5_x4.json").read_text())
    assert res["mean_psnr"] == pytest.approx(BICUBIC[4], abs=0.02) and len(res["images"]) == 5


def test_eval_on_the_embedded_photos(tmp_path: Path) -> None:
    assert main(["eval", "--model", "bicubic", "--data", "skimage", "--scale", "4", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "eval_bicubic_skimage_x4.json").read_text())
    assert [im["name"] for im in res["images"]] == ["chelsea", "coffee", "motorcycle_right"]
    assert all(20 < im["psnr"] < 40 and 0.3 < im["ssim"] < 1 for im in res["images"])


def test_eval_names_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--model", "bicubic", "--data", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("srkit eval: ") and "not a folder" in err and "\n" not in err  # one line, no traceback


def test_eval_refuses_lr_files_of_another_scale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _png(tmp_path / "HR" / "a.png")  # 10 x 12
    _png(tmp_path / "LR_bicubic" / "X4" / "ax4.png")  # 10 x 12 as well: not HR / 4
    assert main(["eval", "--model", "bicubic", "--data", str(tmp_path), "--scale", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "ax4.png: LR is 10x12 (h x w), but its HR a.png (10x12) at x4 needs 2x3" in err and "\n" not in err


def test_a_bug_keeps_its_traceback_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from srkit.cli.errors import run_cli

    def broken() -> int:
        raise KeyError("an internal slip")

    assert run_cli("srkit info", broken) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError: 'an internal slip'" in err and "this is a bug in srkit" in err
    assert run_cli("srkit eval", lambda: (_ for _ in ()).throw(OSError(28, "No space left on device", "out.png"))) == 2
    assert capsys.readouterr().err.strip() == (
        "srkit eval: out.png: No space left on device (nothing partial was kept: srkit writes files atomically)"
    )


def test_sigterm_ends_a_command_as_ctrl_c_does_its_finally_blocks_run(tmp_path: Path) -> None:
    # a session's end sends SIGTERM: a search's piece still logs its cost on the way out
    mark = tmp_path / "finally.txt"
    code = (
        "import os, signal, sys, time\n"
        "from srkit.cli.errors import run_cli\n"
        "def body():\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(30)\n"
        "    finally:\n"
        f"        open({str(mark)!r}, 'w').write('ran')\n"
        "    return 0\n"
        "sys.exit(run_cli('srkit-search', body))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 143 and p.stderr.strip() == "srkit-search: terminated"
    assert mark.read_text() == "ran"


def test_no_gpu_for_device_cuda_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from srkit.cli import search  # srkit-bench says it its own way (tests/test_bench_cli.py)

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    for run, args in (
        (main, ["eval", "--model", "bicubic", "--scale", "2", "--device", "cuda"]),
        (main, ["train", "--device", "cuda:1", "--out", "unused"]),
        (search.main, ["--quick", "--device", "cuda", "--out", "x"]),
    ):
        with pytest.raises(SystemExit) as e:
            run(args)
        assert e.value.code == 2 and "no CUDA device is available" in capsys.readouterr().err.splitlines()[-1]


def test_entry_points_are_installed() -> None:
    bin_dir = Path(sys.executable).parent
    out = subprocess.run([bin_dir / "srkit", "info", "--json"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["srkit"]
    res = subprocess.run([bin_dir / "srkit-bench", "model", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--input" in res.stdout
    res = subprocess.run([bin_dir / "srkit-search", "spos", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--budget-ms" in res.stdout
    res = subprocess.run([bin_dir / "srkit-search"], capture_output=True, text=True)  # --out is required, and named
    assert res.returncode == 2 and "--out" in res.stderr


def _tiny_checkpoint(tmp_path: Path, scale: int = 2) -> Path:
    from srkit import models

    path = tmp_path / f"espcn_x{scale}.safetensors"
    models.save(models.create_model("espcn", scale=scale, in_channels=3), path)
    return path


def test_eval_a_checkpoint_records_the_backends(tmp_path: Path) -> None:
    ckpt = _tiny_checkpoint(tmp_path)
    assert main(["eval", "--model", str(ckpt), "--data", "skimage", "--scale", "2", "--out", str(tmp_path)]) == 0
    (found,) = tmp_path.glob("eval_espcn_x2-*_skimage_x2.json")  # named by the file's hash too
    res = json.loads(found.read_text())
    assert len(res["images"]) == 3 and "pixel_shuffle:cpp" in res["backends"] and "psnr_ssim:cpp" in res["backends"]


def test_eval_refuses_a_scale_the_checkpoint_lacks_and_a_bare_zoo_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = _tiny_checkpoint(tmp_path)
    assert main(["eval", "--model", str(ckpt), "--scale", "4"]) == 2  # the boundary's user error, one line
    assert "a x2 espcn network, not x4" in capsys.readouterr().err
    assert main(["eval", "--model", "imdn", "--scale", "4"]) == 2 and "needs weights" in capsys.readouterr().err


def test_imdn_eval_reproduces_set5_through_the_cli(shared_data: Path, tmp_path: Path) -> None:
    w = shared_data / "weights" / "imdn_x3.pth"
    assert (
        main(
            [
                "eval",
                "--model",
                "imdn",
                "--weights",
                str(w),
                "--data",
                str(shared_data / "datasets/Set5"),
                "--scale",
                "3",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    (found,) = tmp_path.glob("eval_imdn-*_Set5_x3.json")
    res = json.loads(found.read_text())
    assert res["mean_psnr"] == pytest.approx(34.36, abs=0.01) and res["mean_ssim"] == pytest.approx(0.9270, abs=0.0005)


def test_compare_ranks_and_draws(tmp_path: Path) -> None:
    ckpt = _tiny_checkpoint(tmp_path)
    assert (
        main(
            [
                "compare",
                "--models",
                "bicubic",
                f"untrained={ckpt}",
                "--data",
                "skimage",
                "--scale",
                "2",
                "--out",
                str(tmp_path),
                "--grid-images",
                "2",
                "--crop",
                "48",
            ]
        )
        == 0
    )
    res = json.loads((tmp_path / "compare_skimage_x2.json").read_text())
    assert [r["model"] for r in res["ranking"]] == ["bicubic", "untrained"]  # an untrained net loses to bicubic
    from PIL import Image

    with Image.open(tmp_path / "compare_skimage_x2.png") as im:
        assert im.size[0] > im.size[1] > 100
    again = ["compare", "--models", "bicubic", "--data", "skimage", "--scale", "2", "--out", str(tmp_path)]
    assert main(again) == 2  # the earlier comparison is kept unless --overwrite


def test_upscale_folder_keeps_going_past_bad_files(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(src / "rgb.png")
    Image.fromarray(rng.integers(0, 255, (20, 24, 4), dtype=np.uint8)).save(src / "rgba.png")
    Image.fromarray(rng.integers(0, 255, (20, 24), dtype=np.uint8)).save(src / "grey.png")
    Image.fromarray(rng.integers(0, 65535, (20, 24), dtype=np.uint16)).save(src / "deep.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "out"
    rc = main(
        [
            "upscale",
            str(src),
            "-o",
            str(out),
            "--model",
            str(_tiny_checkpoint(tmp_path)),
            "--tile",
            "12",
            "--overlap",
            "4",
        ]
    )
    assert rc == 1  # two files failed, and said so
    with Image.open(out / "rgba_x2.png") as im:
        assert im.mode == "RGBA" and im.size == (48, 40)
    with Image.open(out / "grey_x2.png") as im:
        assert im.mode == "L" and im.size == (48, 40)
    assert (out / "rgb_x2.png").exists() and not (out / "deep_x2.png").exists() and not (out / "broken_x2.png").exists()


def _png(path: Path, seed: int = 0) -> Path:
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (10, 12, 3), dtype=np.uint8)).save(path)
    return path


def test_upscale_refuses_inputs_that_would_share_an_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _png(tmp_path / "a" / "pic.png"), _png(tmp_path / "b" / "pic.png", 1)
    out = tmp_path / "out"
    assert main(["upscale", str(a.parent), str(b.parent), "-o", str(out), "--model", "bicubic", "--scale", "2"]) == 2
    said = capsys.readouterr().err
    assert re.search(r"would overwrite each other's output \(pic_x2.png <- .*a/pic.png, .*b/pic.png\)", said)
    assert not out.exists() or not any(out.iterdir())  # refused before anything was written


def test_upscale_keeps_existing_outputs_unless_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = _png(tmp_path / "in" / "pic.png"), tmp_path / "out"
    args = ["upscale", str(src), "-o", str(out), "--model", "bicubic", "--scale", "2"]
    assert main(args) == 0
    (out / "pic_x2.png").write_bytes(b"mine")
    assert main(args) == 2
    assert re.search(r"1 output\(s\) already exist .*pic_x2.png.*--overwrite", capsys.readouterr().err)
    assert (out / "pic_x2.png").read_bytes() == b"mine"
    assert main([*args, "--overwrite"]) == 0 and (out / "pic_x2.png").read_bytes() != b"mine"
    (tmp_path / "afile").write_text("x")
    assert main(["upscale", str(src), "-o", str(tmp_path / "afile"), "--model", "bicubic", "--scale", "2"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_upscale_glob_and_no_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["upscale", str(tmp_path / "*.png"), "-o", str(tmp_path / "o"), "--model", "bicubic", "--scale", "2"]) == 2
    )
    assert "not a file, a folder or a glob" in capsys.readouterr().err


def test_models_lists_the_zoo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--scale", "4"]) == 0
    out = capsys.readouterr().out
    assert "imdn" in out and "715,176" in out and "swinir_light" in out


def test_upscale_and_eval_name_the_model_they_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    with pytest.raises(SystemExit) as e:  # never bicubic unasked
        main(["upscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "out")])
    assert e.value.code == 2 and "--model" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_eval_results_are_named_by_what_made_them_and_never_replaced_unasked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from srkit import models

    for run in ("a", "b"):  # two runs' model.safetensors, evaluated into one folder
        (tmp_path / run).mkdir()
        models.save(models.create_model("espcn", scale=2, in_channels=3), tmp_path / run / "model.safetensors")
        args = [
            "eval",
            "--model",
            str(tmp_path / run / "model.safetensors"),
            "--scale",
            "2",
            "--out",
            str(tmp_path / "r"),
        ]
        assert main([*args, "--data", "skimage"]) == 0
    assert len(list((tmp_path / "r").glob("eval_model-*_skimage_x2.json"))) == 2
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert main([*args, "--data", "skimage"]) == 2 and "--overwrite" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before
    assert main([*args, "--data", "skimage", "--overwrite"]) == 0
