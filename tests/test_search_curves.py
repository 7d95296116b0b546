"""Learning curves (srkit-search curves): the search's one recipe for a long budget, snapshots kept
and scored on every benchmark, each record once across a run taken over several sittings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from srkit.search import curves
from srkit.search.curves import CurvesConfig
from srkit.search.runlog import RunLog

from srkit.cli.search import main
from srkit.models import load as load_model
from srkit.train.runfolder import read_config
from srkit.train.trainer import snapshot_path

from .test_search_study import _folder


def _args(out: Path, data: Path, bench: list[Path], *extra: str) -> list[str]:
    args = ["curves", "--out", str(out), "--data", str(data), "--benchmarks", *map(str, bench), "--scale", "2"]
    return [*args, "--iters", "4", "--at", "2", "4", "--patch", "32", "--batch", "2", *extra]


def test_curves_score_each_snapshot_on_every_benchmark_once(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", [f"a{i}" for i in range(3)], 0)
    bench = [_folder(tmp_path / "b1", ["x"], 1), _folder(tmp_path / "b2", ["y", "z"], 2)]
    out = tmp_path / "run"
    args = _args(out, data, bench)
    assert main([*args, "--models", "espcn"]) == 0  # the first sitting: one network
    args2 = [*args, "--models", "espcn", "imdn:blocks=1,channels=16"]
    assert main(args2) == 2  # a folder holding curves needs --resume
    assert main([*args2, "--resume", "--lr", "0.01"]) == 2  # another recipe in the same folder: refused
    assert main([*args, "--resume", "--models", "imdn:blocks=1,channels=16"]) == 2  # espcn's curve not named
    assert main([*args2, "--resume", "--at", "9"]) == 2  # past --iters: refused, one line
    assert main([*args2, "--resume", "--official", "espcn"]) == 2
    assert main([*args2, "--resume"]) == 0  # a network added
    log = RunLog(out / "log.jsonl")
    pts = log.of_kind("curve")
    assert sorted((r["label"], r["at"]) for r in pts) == [
        ("espcn", 2),
        ("espcn", 4),
        ("imdn_blocks1_channels16", 2),
        ("imdn_blocks1_channels16", 4),
    ]
    assert all(set(r["scores"]) == {"b1", "b2"} for r in pts)
    assert main([*args2, "--resume"]) == 0  # finished: nothing again
    log = RunLog(out / "log.jsonl")
    keys = [r["key"] for r in log.of_kind("curve")]
    assert len(keys) == len(set(keys)) == 4
    # each training's cost once, by its CPU time (the finished run trains nothing again)
    assert sorted(r["label"] for r in log.of_kind("cost")) == ["espcn", "imdn_blocks1_channels16"]
    assert all(r["phase"] == "curves" and r["cpu_seconds"] > 0 for r in log.of_kind("cost"))
    table = curves.table(RunLog(out / "log.jsonl"))
    assert set(table["espcn"]) == {2, 4}


def test_a_snapshot_holds_the_weights_of_its_iteration(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", [f"a{i}" for i in range(3)], 0)
    bench = _folder(tmp_path / "b1", ["x"], 1)
    cfg = CurvesConfig(
        models=("espcn",), data=str(data), benchmarks=(str(bench),), scale=2, iters=4, at=(2, 4), patch=32, batch=2
    )
    curves.run(cfg, tmp_path / "run", log=lambda s: None)
    folder = tmp_path / "run" / "train" / "espcn"
    final = load_model(folder / "model.safetensors").state_dict()
    last = load_model(snapshot_path(folder, 4)).state_dict()
    early = load_model(snapshot_path(folder, 2)).state_dict()
    assert all((final[k] == last[k]).all() for k in final)
    assert any((early[k] != last[k]).any() for k in final)
    rec = RunLog(tmp_path / "run" / "log.jsonl").get("curve:espcn:2")
    assert rec["params"] == sum(v.numel() for v in early.values())
    assert read_config(tmp_path / "run")["at"] == [2, 4]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"at": (0, 4)}, "at: invalid value [0, 4] (allowed: iterations from 1 to iters (4))"),
        ({"patch": 31}, "patch: invalid value 31 (allowed: a multiple of the scale (2))"),
        ({"models": ("espcn", "espcn")}, "models: invalid value ['espcn', 'espcn'] (allowed: each network once)"),
    ],
)
def test_a_curves_config_names_what_it_cannot_mean(change: dict, named: str) -> None:
    base = {"models": ("espcn",), "data": "skimage", "benchmarks": ("x",), "scale": 2, "iters": 4, "at": (2, 4)}
    with pytest.raises(ValueError, match=re.escape(named)):
        CurvesConfig(**(base | change))


def test_official_checkpoints_are_scored_once_and_ranked_against(tmp_path: Path) -> None:
    from srkit.models import create_model, save

    data = _folder(tmp_path / "data", [f"a{i}" for i in range(3)], 0)
    bench = _folder(tmp_path / "b1", ["x", "y"], 1)
    models = ("espcn", "fsrcnn", "imdn:blocks=1,channels=16")
    official = {}
    for i, m in enumerate(models):
        name, kw = m.partition(":")[0], dict(blocks=1, channels=16) if m.startswith("imdn") else {}
        official[curves.model_label(m)] = str(tmp_path / f"{i}.safetensors")
        save(create_model(name, scale=2, **kw), official[curves.model_label(m)])
    cfg = CurvesConfig(
        models=models, data=str(data), benchmarks=(str(bench),), scale=2, iters=2, at=(1, 2), patch=32, batch=2
    )
    curves.run(cfg, tmp_path / "run", official=official, log=lambda s: None)
    curves.run(cfg, tmp_path / "run", official=official, log=lambda s: None)  # finished: nothing again
    log = RunLog(tmp_path / "run" / "log.jsonl")
    assert sorted(r["label"] for r in log.of_kind("official")) == sorted(official)
    fid = json.loads((tmp_path / "run" / "fidelity.json").read_text())
    pairs = {(r["signal"], r["reference"]) for r in fid}
    assert pairs == {
        ("retrained 1 iterations", "official checkpoints"),
        ("retrained 2 iterations", "official checkpoints"),
        ("retrained 1 iterations", "retrained 2 iterations"),
    }
    assert all(r["n"] == 3 and -1 <= r["kendall_tau"] <= 1 and len(r["ci95"]["spearman"]) == 2 for r in fid)
    assert "| espcn | 2 |" in (tmp_path / "run" / "curves.md").read_text()
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_a_search_takes_its_retrained_baselines_from_curves_of_the_same_recipe(tmp_path: Path) -> None:
    from .test_search_study import _tiny_search

    data = _folder(tmp_path / "data", [f"a{i}" for i in range(6)], 0)
    bench = [_folder(tmp_path / "b1", ["x"], 1), _folder(tmp_path / "b2", ["y"], 2)]
    grown = tmp_path / "curves"
    assert main([*_args(grown, data, bench, "--lr", "0.001"), "--models", "espcn"]) == 0
    out = tmp_path / "run"
    args = _tiny_search(out, data, "--retrain-iters", "4", "--retrain-baselines", "espcn", "imdn:blocks=2")
    args += ["--retrain-top", "1", "--benchmarks", *map(str, bench), "--retrained-from", str(grown)]
    args[args.index("--until") + 1] = "retrain"
    assert main(args) == 0
    log = RunLog(out / "log.jsonl")
    got = {r["label"]: r for r in log.of_kind("retrained")}
    curve = RunLog(grown / "log.jsonl").get("curve:espcn:4")
    espcn = got["baseline_espcn"]  # the curves' espcn: the same recipe, so its scores and weights
    assert espcn["from"] == str(grown / "train" / "espcn") and espcn["scores"] == curve["scores"]
    kept = load_model(out / "retrain" / "baseline_espcn" / "model.safetensors").state_dict()
    theirs = load_model(grown / "train" / "espcn" / "model.safetensors").state_dict()
    assert all((kept[k] == theirs[k]).all() for k in theirs)
    assert "from" not in got["baseline_imdn_blocks2"]  # no curve of it: trained here
    assert (out / "retrain" / "baseline_imdn_blocks2" / "latest.pt").is_file()
    assert not (out / "retrain" / "baseline_espcn" / "latest.pt").exists()  # not trained again
    other = tmp_path / "run2"  # another batch: the curve is not this recipe's, so espcn trains here
    args2 = [*args, "--batch", "4"]
    args2[args2.index("--out") + 1] = str(other)
    assert main(args2) == 0
    assert all("from" not in r for r in RunLog(other / "log.jsonl").of_kind("retrained"))
    assert (other / "retrain" / "baseline_espcn" / "latest.pt").is_file()
