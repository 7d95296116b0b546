"""The experiment recipes under bench/recipes/ rebuild the configuration their recorded run holds:
each ``srkit-search spos @bench/recipes/NAME.args`` parses to the SearchConfig that wrote
bench/results/search/NAME/config.yaml (data folders compared by name: the record holds the
absolute paths of the machine that ran it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from srkit.cli import search as search_cli
from srkit.cli.search import spos as spos_cli
from srkit.cli.search.common import official_files
from srkit.train.runfolder import read_config

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted(p.stem for p in (ROOT / "bench" / "recipes").glob("cpu_x4*.args"))
SHARED = ROOT.parent / "shared" / "data" / "datasets"


def _names(paths: Any) -> list[str]:
    items = paths.split(os.pathsep) if isinstance(paths, str) else paths
    return [Path(p).name for p in items]


def _matches(recorded: dict[str, Any], rebuilt: dict[str, Any], where: str = "") -> list[str]:
    """The recorded fields the rebuilt config differs on (fields a later srkit added are not compared)."""
    wrong = []
    for key, value in recorded.items():
        if key in ("data", "benchmarks"):
            same = _names(value) == _names(rebuilt[key])
        elif isinstance(value, dict):
            wrong += _matches(value, rebuilt[key], f"{where}{key}.")
            continue
        else:
            same = json.loads(json.dumps(rebuilt.get(key))) == value
        if not same:
            wrong.append(f"{where}{key}: recorded {value!r}, recipe {rebuilt.get(key)!r}")
    return wrong


def test_every_recorded_search_has_a_recipe() -> None:
    runs = {p.parent.name for p in (ROOT / "bench" / "results" / "search").glob("cpu_x4*/config.yaml")}
    assert runs == set(RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_a_recipe_rebuilds_its_recorded_configuration(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/data/datasets is absent: the recipes name its folders")
    monkeypatch.chdir(ROOT)  # recipes are run from the repository's root
    monkeypatch.setattr("srkit.runtime.DEFAULT", "auto")  # a user's shell's default, not the suite's SRKIT_RUNTIME
    args = search_cli.parser().parse_args(["spos", f"@bench/recipes/{name}.args"])
    assert args.out == f"bench/results/search/{name}" and args.resume
    recorded = read_config(ROOT / "bench" / "results" / "search" / name)
    assert _matches(recorded, spos_cli.config(args).as_dict()) == []


def test_the_curves_recipe_rebuilds_the_recorded_curves(monkeypatch: pytest.MonkeyPatch) -> None:
    if not SHARED.is_dir():
        pytest.skip("../shared/data/datasets is absent: the recipe names its folders")
    from srkit.cli.search import curves as curves_cli

    monkeypatch.chdir(ROOT)
    args = search_cli.parser().parse_args(["curves", "@bench/recipes/curves_x4.args"])
    recorded = read_config(ROOT / "bench" / "results" / "curves_x4")
    assert _matches(recorded, curves_cli.config(args).as_dict()) == []
    assert sorted(official_files(args.official)) == ["carn_m", "fsrcnn", "imdn", "rfdn", "rlfn"]


FIDELITY = sorted(p.stem for p in (ROOT / "bench" / "recipes").glob("fidelity_x4*.args"))


@pytest.mark.parametrize("name", FIDELITY)
def test_a_fidelity_recipe_rebuilds_the_configuration_of_its_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = ROOT / "bench" / "results" / "search" / name
    if not SHARED.is_dir():
        pytest.skip("../shared/data/datasets is absent: the recipes name its folders")
    if not (folder / "config.yaml").is_file():
        pytest.skip(f"{name} has not started yet (bench/recipes/run_32.sh runs it)")
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("srkit.runtime.DEFAULT", "auto")  # a user's shell's default, not the suite's SRKIT_RUNTIME
    args = search_cli.parser().parse_args(["spos", f"@bench/recipes/{name}.args"])
    assert args.out == f"bench/results/search/{name}" and args.resume
    assert _matches(read_config(folder), spos_cli.config(args).as_dict()) == []
