"""Training recipes: data per model, scaled to the run, filling only what the user left unset, and
a quick recipe that trains a small network past bicubic in a short run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from srkit.cli.main import main
from srkit.models import list_models
from srkit.train import load_config, recipes, train
from srkit.train.trainer import lr_factor, schedule_point


def test_every_recipe_names_a_zoo_model_and_makes_a_valid_configuration() -> None:
    assert set(recipes.PAPER) <= set(list_models())
    for name in list_models():
        for recipe in ("paper", "quick"):
            cfg = load_config(None, [f"model={name}", "scale=4", "iters=100000", f"recipe={recipe}"])
            assert cfg.recipe == recipe and cfg.data.patch % 4 == 0


def test_a_paper_recipe_is_scaled_to_the_run() -> None:
    cfg = load_config(None, ["model=edsr", "scale=2", "iters=30000", "recipe=auto"])
    assert cfg.recipe == "paper" and cfg.loss == "l1" and cfg.optim.lr == 1e-4
    assert cfg.optim.schedule == "step" and cfg.optim.step_size == 20000  # 2e5 of 3e5, at this run's length
    assert cfg.data.patch == 96 and cfg.data.batch == 16  # LR 48 patches
    swin = load_config(None, ["model=swinir_light", "scale=4", "iters=100000", "recipe=paper"])
    assert swin.optim.milestones == [50000, 80000, 90000, 95000] and swin.data.patch == 256


def test_fields_the_user_gave_are_kept() -> None:
    cfg = load_config(None, ["model=imdn", "iters=50000", "recipe=paper", "optim.lr=1e-3", "data.patch=64", "loss=mse"])
    assert (cfg.optim.lr, cfg.data.patch, cfg.loss) == (1e-3, 64, "mse")
    assert cfg.optim.step_size == 10000  # the rest is the recipe's


def test_auto_takes_quick_for_short_runs_and_none_keeps_the_defaults() -> None:
    assert load_config(None, ["model=imdn", "iters=5000", "recipe=auto"]).recipe == "quick"
    assert load_config(None, ["model=imdn", "max_minutes=30", "recipe=auto"]).recipe == "quick"
    assert load_config(None, ["model=imdn", "max_minutes=600", "recipe=auto"]).recipe == "paper"
    plain = load_config(None, ["model=imdn"])  # the Python API takes no recipe unless asked
    assert plain.recipe == "none" and plain.optim.lr == 5e-4 and plain.ema == 0.999


def test_a_time_bounded_run_schedules_by_the_clock() -> None:
    cfg = load_config(None, ["model=espcn", "scale=2", "max_minutes=2", "recipe=quick"])
    assert cfg.iters == recipes.TIME_BOUNDED_ITERS and cfg.optim.schedule == "cosine"
    assert schedule_point(cfg, 10, 60.0) == cfg.iters // 2
    assert lr_factor(cfg, schedule_point(cfg, 10, 60.0)) == pytest.approx(
        0.5
    )  # half the time: half-way down the cosine
    assert lr_factor(cfg, schedule_point(cfg, 10, 1e-3)) < 0.01  # warming up
    bounded = dataclasses.replace(cfg, max_minutes=None, iters=100)
    assert schedule_point(bounded, 10, 60.0) == 10


def test_show_recipe_prints_the_source_and_the_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--model", "vdsr", "--iters", "40000", "--show-recipe"]) == 0
    out = capsys.readouterr().out
    assert "VDSR (Kim et al. 2016)" in out and "name: sgd" in out and "clip_grad: 0.4" in out


def test_a_bad_recipe_is_named() -> None:
    from srkit.train import ConfigError

    with pytest.raises(ConfigError, match="recipe: invalid value 'fast'"):
        load_config(None, ["recipe=fast"])


@pytest.mark.slow
def test_the_quick_recipe_beats_bicubic_in_a_short_run(tmp_path: Path) -> None:
    cfg = load_config(
        None, ["model=espcn", "scale=2", "iters=1000", "val_every=1000", "recipe=quick", "tensorboard=false"]
    )
    m = train(cfg, tmp_path / "run", log=lambda s: None, progress=False)
    assert m["margin_db"] > 0.3, m["margin_db"]  # the default recipe (lr 5e-4, EMA) was at +0.07 dB after 2 minutes
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["recipe"] == "quick"


def test_command_line_values_keep_their_types(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--model", "espcn", "--data", "null", "--iters", "30000", "--show-recipe"]) == 0
    out = capsys.readouterr().out
    assert "data: 'null'" in out and "iters: 30000" in out  # a folder called null, not None


def test_a_config_files_recipe_is_kept_unless_the_command_line_names_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("model: vdsr\niters: 40000\nrecipe: none\n")
    assert main(["train", "--config", str(f), "--show-recipe"]) == 0
    assert "recipe none" in capsys.readouterr().out  # the file's, not the command line's default (auto)
    assert main(["train", "--config", str(f), "--recipe", "paper", "--show-recipe"]) == 0
    assert "recipe paper" in capsys.readouterr().out
    assert main(["train", "--model", "vdsr", "--iters", "40000", "--show-recipe"]) == 0
    assert "recipe paper" in capsys.readouterr().out  # no file, no --recipe: auto, which picks paper here
    f.write_text("- not a mapping\n")
    assert main(["train", "--config", str(f), "--show-recipe"]) == 2
