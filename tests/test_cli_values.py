"""srkit-search and srkit-bench under values that cannot be meant and run folders they do not own:
one line naming the option or folder, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from filelock import FileLock
from srkit.search.latency import time_model
from srkit.search.runlog import RUN_FILES as SEARCH_FILES

from srkit.cli import bench as bench_cli
from srkit.cli import search as search_cli
from srkit.models import create_model
from srkit.models.base import SRNet, crop_output, pad_input, padded_hw
from srkit.models.blocknet import BlockNet
from srkit.profiler.modelbench import lr_size
from srkit.train.runfolder import KIND_FILE, LOCK_NAME, RunFolderError, claim, read_config, write_config

BAD_SEARCH = [
    (["spos", "--iters", "0"], "--iters"),
    (["spos", "--patch", "-4"], "--patch"),
    (["spos", "--latency-input", "0x480"], "--latency-input"),
    (["spos", "--latency-input", "270by480"], "--latency-input"),
    (["spos", "--budget-ms", "inf"], "--budget-ms"),
    (["spos", "--budgets", "5", "-1"], "--budgets"),
    (["spos", "--budget-margin", "1.5"], "--budget-margin"),
    (["spos", "--budget-margin", "0"], "--budget-margin"),
    (["spos", "--budget-rounds", "-2"], "--budget-rounds"),
    (["spos", "--distill", "1.5"], "--distill"),
    (["spos", "--min-blocks", "5", "--max-blocks", "3"], "--min-blocks"),
    (["spos", "--topk", "9", "--population", "4"], "--topk"),
    (["spos", "--channels", "0"], "--channels"),
    (["nni", "--lr", "nan"], "--lr"),
    (["nni", "--trials", "0"], "--trials"),
    (["nni", "--min-blocks", "4", "--max-blocks", "2"], "--min-blocks"),
    (["reinforce", "--penalty-db", "-1"], "--penalty-db"),
    (["reinforce", "--steps", "0"], "--steps"),
]


@pytest.mark.parametrize(("argv", "option"), BAD_SEARCH, ids=[" ".join(a) for a, _ in BAD_SEARCH])
def test_search_refuses_values_it_cannot_mean(
    argv: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    try:  # argparse's own line (SystemExit), or the config's through the error boundary (returned)
        rc = search_cli.main([argv[0], "--out", str(out), *argv[1:]])
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and option in err.splitlines()[-1] and "Traceback" not in err
    assert not out.exists()


BAD_BENCH = [
    (["--reps", "0"], "--reps"),
    (["--max-seconds", "nan"], "--max-seconds"),
    (["model", "imdn", "--batch", "0"], "--batch"),
    (["model", "imdn", "--scale", "0"], "--scale"),
    (["model", "imdn", "--input", "0x10"], "--input"),
    (["lut", "--widths", "0"], "--widths"),
    (["lut", "--validate", "-1"], "--validate"),
]


@pytest.mark.parametrize(("argv", "option"), BAD_BENCH, ids=[" ".join(a) for a, _ in BAD_BENCH])
def test_bench_refuses_values_it_cannot_mean(
    argv: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        bench_cli.main(
            [*argv[:1], "--out", str(tmp_path / "b"), *argv[1:]]
            if argv[0] in ("model", "lut")
            else ["--out", str(tmp_path / "b"), *argv]
        )
    err = capsys.readouterr().err
    assert e.value.code == 2 and option in err.splitlines()[-1] and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def _old_search(out: Path) -> dict[str, str]:
    out.mkdir(parents=True)
    files = {"config.json": '{"old": true}', "log.jsonl": '{"key": "a"}\n'}
    for name, text in files.items():
        (out / name).write_text(text)
    return files


@pytest.mark.parametrize("command", ["spos", "reinforce", "nni"])
def test_a_search_folder_is_not_restarted_unasked(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    files = _old_search(out)
    assert search_cli.main([command, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--resume" in err and "--overwrite" in err
    assert {n: (out / n).read_text() for n in files} == files


def test_a_search_folder_has_one_writer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    with FileLock(out / LOCK_NAME):  # another search holds it
        assert search_cli.main(["spos", "--out", str(out), "--resume"]) == 2
    assert "another srkit run" in capsys.readouterr().err
    assert not (out / "log.jsonl").exists()


def test_overwrite_clears_every_file_a_search_wrote(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _old_search(out)
    (out / "genotypes").mkdir()
    (out / "genotypes" / "x4.json").write_text("{}")
    (out / "config.yaml").write_text("old: true\n")  # where srkit records it now
    (out / "notes.txt").write_text("mine")  # not a search's file: kept
    with claim(out, resume=False, overwrite=True, files=SEARCH_FILES, kind="search"):
        assert sorted(p.name for p in out.iterdir() if p.name not in (LOCK_NAME, KIND_FILE)) == ["notes.txt"]
    with pytest.raises(RunFolderError, match="choose one"):
        with claim(out, resume=True, overwrite=True, files=SEARCH_FILES, kind="search"):
            pass


def test_a_resumed_dense_search_refuses_another_configuration(tmp_path: Path) -> None:
    from srkit.search import reinforce as rf

    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("something: else\n")
    with pytest.raises(ValueError, match="another configuration"):
        rf.run(rf.quick_dense("cpu"), out, log=lambda s: None)


class _Multiple(SRNet):
    """A model that can only take sides that are multiples of 4, at least 12."""

    min_size, size_multiple = 12, 4

    def __init__(self) -> None:
        super().__init__(scale=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-2] % 4 == 0 and x.shape[-1] % 4 == 0 and min(x.shape[-2:]) >= 12, x.shape
        return torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")


def test_size_needs_are_met_by_padding_and_cropping() -> None:
    m = _Multiple()
    assert padded_hw(m, (5, 13)) == (12, 16) and padded_hw(m, (16, 20)) == (16, 20)
    x = torch.rand(1, 3, 5, 13)
    y = crop_output(m(pad_input(m, x)), (5, 13), 2)
    assert y.shape == (1, 3, 10, 26) and torch.equal(y[..., ::2, ::2], x)  # the image's pixels, the padding cut off
    assert lr_size((20, 52), 4, m) == (12, 16)  # bench times what Upscaler would run
    assert lr_size((20, 52), 4) == (5, 13)


def test_upscaler_pads_to_a_multiple() -> None:
    from srkit.inference import Upscaler

    lr = torch.randint(0, 256, (3, 7, 9), dtype=torch.uint8)
    assert Upscaler(_Multiple())(lr).shape == (3, 14, 18)
    big = torch.randint(0, 256, (1, 3, 30, 41), dtype=torch.uint8)
    assert Upscaler(_Multiple(), tile=14, overlap=4)(big).shape == (1, 3, 60, 82)  # tiles of 14 padded to 16
    with pytest.raises(ValueError, match="at least 12"):
        Upscaler(_Multiple(), tile=10, overlap=4)


def test_search_latency_times_small_inputs_at_the_models_minimum() -> None:
    net = BlockNet(2, 8, [{"type": "rfdb"}])
    assert net.min_size == 15
    assert time_model(net, (8, 8), "cpu", reps=3) > 0  # ESA alone would fail on 8x8
    assert lr_size((32, 32), 4, create_model("rlfn", scale=4)) == (15, 15)


def test_an_unknown_model_to_train_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from srkit.cli.main import main

    assert main(["train", "--model", "nope", "--iters", "1", "--out", str(tmp_path / "t")]) == 2
    assert "model: unknown model 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_a_write_that_cannot_happen_names_the_file_not_its_temporary(tmp_path: Path) -> None:
    from srkit import atomic

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError) as e:
        atomic.write_bytes(blocker / "out.json", b"{}")  # its folder is a file
    assert e.value.filename == str(blocker / "out.json") and ".tmp" not in str(e.value)


def test_options_before_a_bench_subcommand_are_honoured() -> None:
    from srkit.cli.bench import parser

    before = parser().parse_args(["--out", "X", "--reps", "3", "-v", "model", "espcn"])
    assert (before.out, before.reps, before.verbose) == ("X", 3, True)
    after = parser().parse_args(["--out", "X", "model", "espcn", "--out", "Y"])
    assert after.out == "Y"  # the later one wins, as anywhere on a command line
    assert parser().parse_args(["model", "espcn"]).out == "runs/bench"


def test_a_bare_srkit_search_lists_its_commands_and_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from srkit.cli.search import main as search_main

    assert search_main([]) == 2
    assert search_main(["--out", str(tmp_path / "s")]) == 2 and not (tmp_path / "s").exists()
    err = capsys.readouterr().err
    assert "srkit-search spos --out DIR" in err and "name what to run" in err


def test_a_configs_line_is_said_in_the_commands_own_option_names() -> None:
    from srkit.search.spos import SearchConfig, _rules

    from srkit.cli.args import as_options
    from srkit.cli.search import curves, spos

    line = "evolution.topk: invalid value 5 (allowed: at most evolution.population (4))"
    assert as_options(line, spos.OPTIONS) == "--topk: invalid value 5 (allowed: at most --population (4))"
    assert as_options("channels: one of space.channels [16]", spos.OPTIONS) == "--channels: one of --channels [16]"
    # every field a search rule can name has its option, so the command never shows a bare field name
    assert {field for field, _, _ in _rules(SearchConfig())} <= set(spos.OPTIONS)
    assert {"models", "at", "patch", "iters", "lr", "benchmarks"} <= set(curves.OPTIONS)


def _record_spos(out: Path) -> dict:
    from srkit.search import spos

    cfg = spos.SearchConfig()
    spos._open(cfg, out, lambda s: None)
    return cfg.as_dict()


def _record_curves(out: Path) -> dict:
    from srkit.search import curves

    cfg = curves.CurvesConfig(models=("espcn",), benchmarks=("Set5",))
    curves.open_run(cfg, out)
    return cfg.as_dict()


def _record_nni(out: Path) -> dict:
    from dataclasses import asdict

    from srkit.search import nni_adapter as na

    s = na.NNISettings(out=str(out), mode="hpt", model="imdn")
    s.save(out)
    assert na.NNISettings.load(out) == s  # what a trial reads back
    return asdict(s)


@pytest.mark.parametrize("record", [_record_spos, _record_curves, _record_nni])
def test_every_kind_of_run_records_its_configuration_in_config_yaml(record: Any, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    written = record(out)
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".json", ".yaml") and "config" in p.stem) == [
        "config.yaml"
    ]
    assert read_config(out) == json.loads(json.dumps(written))


def test_a_run_written_by_an_older_srkit_keeps_its_recorded_configuration(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"lr": 1e-05, "at": [1, 2]}')  # PyYAML would read 1e-05 as a string
    assert read_config(tmp_path) == {"lr": 1e-05, "at": [1, 2]}
    write_config(tmp_path, {"lr": 2e-05, "at": (1, 2)})
    assert read_config(tmp_path) == {"lr": 2e-05, "at": [1, 2]}  # config.yaml first; tuples read back as lists
    (tmp_path / "config.yaml").write_text("lr: [1,\n")
    with pytest.raises(RunFolderError, match="config.yaml: the run's recorded configuration is damaged"):
        read_config(tmp_path)
    (tmp_path / "config.yaml").write_text("- a list\n")
    with pytest.raises(RunFolderError, match="not a mapping"):
        read_config(tmp_path)
