"""A search run a reader can trust: several training folders as one set, candidates ranked on
held-out images, baselines given as variants, retraining scored on a benchmark, a final interleaved
timing, the verdict (who dominates whom) and the cost, and a run taken piecewise without a record twice."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from srkit.search import pareto, report, verdict
from srkit.search.evolution import EvolutionConfig
from srkit.search.runlog import RunLog, spent
from srkit.search.space import Arch, BlockSpace
from srkit.search.spos import (
    FIDELITY_CHECKPOINT,
    SearchConfig,
    _fidelity_job,
    baseline_label,
    baseline_spec,
    rank_folder,
    run_budgets,
    split_pairs,
)

from srkit.cli.search import main
from srkit.evaluate import dataset
from srkit.train.data import holdout_split
from srkit.train.runfolder import read_config


def _folder(root: Path, names: list[str], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    (root / "HR").mkdir(parents=True)
    for n in names:
        smooth = rng.random((9, 9, 3)).repeat(8, 0).repeat(8, 1)  # blocky, so the LR carries something
        Image.fromarray((smooth * 255).astype(np.uint8)).save(root / "HR" / f"{n}.png")
    return root


def test_baseline_specs_name_variants() -> None:
    assert baseline_spec("imdn") == ("imdn", {})
    assert baseline_spec("imdn:channels=32,blocks=3") == ("imdn", {"channels": 32, "blocks": 3})
    assert baseline_spec("rfdn:io_range=255.0")[1] == {"io_range": 255.0}
    assert baseline_label("imdn:channels=32,blocks=3") == "baseline_imdn_channels32_blocks3"
    with pytest.raises(ValueError, match="key=value"):
        baseline_spec("imdn:channels")


def test_budget_margin_scales_every_budget_given_or_from_the_baselines(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    for name, ms in (("espcn", 20.0), ("imdn", 400.0), ("rlfn", 400.0)):
        log.append({"kind": "baseline", "key": f"baseline:{name}", "model": name, "params": 1, "latency_ms": ms})
    three = {"budgets_from_baselines": True, "baselines": ["imdn", "espcn", "rlfn"]}
    assert run_budgets(three, log) == (20.0, 400.0)
    assert run_budgets(three | {"budget_margin": 0.8}, log) == (16.0, 320.0)
    assert run_budgets({"budgets_ms": [50.0, 10.0], "budget_margin": 0.5}, log) == (25.0, 5.0)


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"shared": True}, "shared: invalid value True (allowed: true only in the IMDB multi-path space)"),
        ({"channels": 24}, "channels: invalid value 24 (allowed: one of space.channels [32])"),
        (
            {"evolution": EvolutionConfig(population=4, topk=5)},
            "evolution.topk: invalid value 5 (allowed: at most evolution.population (4))",
        ),
        ({"holdout": 1}, "holdout: invalid value 1"),
        ({"latency_input": (0, 64)}, "latency_input: invalid value [0, 64]"),
        ({"budgets_ms": (10.0, 0.0)}, "budgets_ms: invalid value [10.0, 0.0]"),
        ({"budget_margin": 0.0}, "budget_margin: invalid value 0.0"),
        ({"budget_margin": 1.2}, "budget_margin: invalid value 1.2"),
        ({"budget_rounds": -1}, "budget_rounds: invalid value -1"),
        (
            {"budget_rounds": 2, "latency_table": "lut.json"},
            "budget_rounds: invalid value 2 (allowed: 0 with latency_table",
        ),
        (
            {"budget_margin": 0.8},
            "budget_margin: invalid value 0.8 (allowed: 1 unless budgets_ms or budgets_from_baselines",
        ),
        ({"retrain_top": 0}, "retrain_top: invalid value 0"),
        ({"rank_top": -1}, "rank_top: invalid value -1"),
        ({"rank_top": 2}, "rank_iters: invalid value 0 (allowed: above 0 (or retrain_iters) with rank_top)"),
        (
            {"rank_tolerance": 0.01},
            "rank_tolerance: invalid value 0.01 (allowed: a PSNR difference >= 0 dB, above 0 only with rank_top",
        ),
        ({"rank_tolerance": -1.0, "rank_top": 2, "rank_iters": 5}, "rank_tolerance: invalid value -1.0"),
        ({"latency_runtime": "onnx"}, "latency_runtime: invalid value 'onnx'"),
        ({"fidelity_sample": 2}, "fidelity_sample: invalid value 2 (allowed: 0 (off) or at least 3"),
        ({"fidelity_sample": 3}, "fidelity_iters: invalid value 0 (allowed: above 0 (or retrain_iters) with fidelity"),
        ({"retrain_baselines": ("imdn:channels",)}, "key=value"),
        (
            {"latency_table": "lut.json", "space": BlockSpace(in_channels=1)},
            "latency_table: invalid value 'lut.json' (allowed: null for a Y space (space.in_channels 1)",
        ),
    ],
)
def test_a_search_config_refuses_a_broken_rule_in_one_line(change: dict, line: str) -> None:
    assert SearchConfig().as_dict()["channels"] == 32  # the defaults keep every rule
    with pytest.raises(ValueError, match=re.escape(line)):
        dataclasses.replace(SearchConfig(), **change)


def test_the_search_command_reports_a_broken_rule_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "srkit-search: --shared: invalid value True (allowed: true only with one width in --channels)"
    assert main(["spos", "--out", str(tmp_path / "x"), "--space", "imdb", "--shared", "--channels", "16", "24"]) == 2
    assert capsys.readouterr().err.strip() == line
    assert not (tmp_path / "x").exists()  # refused before the run folder is claimed


def test_several_folders_are_one_dataset_and_candidates_rank_on_held_out_images(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", ["a1", "a2", "a3"], 0)
    b = _folder(tmp_path / "b", ["b1", "b2"], 1)
    data = os.pathsep.join([str(a), str(b)])
    assert [n for n, _, _ in dataset(data, 4)] == ["a1", "a2", "a3", "b1", "b2"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list(dataset(os.pathsep.join([str(a), str(tmp_path / "nowhere")]), 4))
    train, val = split_pairs(SearchConfig(data=data, holdout=2))
    assert [n for n, _, _ in val] == ["a1", "a3", "b2"] and [n for n, _, _ in train] == ["a2", "b1"]
    with pytest.raises(ValueError, match="holdout"):
        split_pairs(SearchConfig(data=data, holdout=9))


def _pt(label: str, psnr: float, ms: float) -> dict:
    group = "baseline" if label.startswith("baseline_") else "found"
    return {"label": label, "group": group, "psnr": psnr, "latency_ms": ms}


def test_the_verdict_scores_the_mean_over_the_benchmark_sets(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    for label, sets in (("baseline_a", (30.0, 27.0, 26.0)), ("f1", (29.9, 27.3, 26.1))):
        scores = {n: {"psnr": v, "ssim": 0.9} for n, v in zip(("Set5", "Set14", "B100"), sets, strict=True)}
        log.append(
            {
                "kind": "retrained",
                "key": f"retrained:{label}:16000",
                "label": label,
                "psnr": sets[0],
                "ssim": 0.9,
                "scores": scores,
                "latency_ms": 5.0,
                "params": 1,
            }
        )
    pts = {p["label"]: p for p in verdict.points(log)}
    assert pts["f1"]["psnr"] == pytest.approx((29.9 + 27.3 + 26.1) / 3)  # below on Set5, above on the mean
    assert verdict.compare(list(pts.values()))["dominated_by_found"] == {"f1": ["baseline_a"]}
    assert report.benchmark(log) == "mean of Set5, Set14, B100"


def test_the_verdict_needs_two_beaten_baselines_and_the_baselines_front_covered() -> None:
    base = [_pt("baseline_a", 28.0, 10.0), _pt("baseline_b", 29.0, 50.0), _pt("baseline_c", 28.5, 80.0)]
    v = verdict.compare([*base, _pt("f1", 29.5, 45.0), _pt("f2", 28.2, 9.0)])
    assert v["dominated_by_found"] == {"f1": ["baseline_b", "baseline_c"], "f2": ["baseline_a"]}
    assert v["baseline_front"] == ["baseline_a", "baseline_b"] and v["goal_met"]
    v = verdict.compare([*base, _pt("f1", 29.5, 45.0)])  # nothing as fast as baseline_a
    assert v["one_found_dominates_two"] and v["baseline_front_not_dominated"] == ["baseline_a"]
    assert not v["goal_met"]
    v = verdict.compare([*base, _pt("f1", 29.0, 50.0), _pt("f2", 28.0, 10.0)])  # ties beat nothing
    assert v["dominated_by_found"] == {"f1": ["baseline_c"], "f2": []} and not v["goal_met"]


def test_the_cost_adds_every_piece_per_phase(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    for i, (phase, s, th) in enumerate([("supernet", 3600, 2), ("retrain", 1800, 2), ("retrain", 1800, 1)]):
        log.append({"kind": "cost", "key": f"c{i}", "phase": phase, "seconds": s, "threads": th})
    c = verdict.cost(log)
    assert c["supernet"] == {"wall_hours": 1.0, "cpu_hours": 2.0}
    assert c["retrain"] == {"wall_hours": 1.0, "cpu_hours": 1.5}
    assert c["total"] == {"wall_hours": 2.0, "cpu_hours": 3.5}
    # a piece that measured its CPU time is costed by it (it was stopped for most of its hour)
    log.append({"kind": "cost", "key": "c3", "phase": "supernet", "seconds": 3600, "cpu_seconds": 720, "threads": 2})
    assert verdict.cost(log)["supernet"] == {"wall_hours": 2.0, "cpu_hours": 2.2}


def test_a_piece_costs_its_cpu_time_not_the_time_it_was_stopped(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    with spent(log, "supernet", "piece"):
        t = time.monotonic()
        while time.monotonic() - t < 0.3:  # busy: CPU time
            pass
        time.sleep(0.6)  # idle, as a process stopped with SIGSTOP: wall time only
    (r,) = log.of_kind("cost")
    assert r["label"] == "piece" and r["seconds"] >= 0.9
    assert 0.2 <= r["cpu_seconds"] <= 0.6


@pytest.mark.slow
def test_a_study_taken_piecewise_retrains_scores_and_times_each_model_once(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", [f"a{i}" for i in range(4)], 0)
    b = _folder(tmp_path / "b", [f"b{i}" for i in range(2)], 1)
    bench = _folder(tmp_path / "bench", ["x", "y"], 2)
    out = tmp_path / "run"
    args = ["spos", "--out", str(out), "--data", str(a), str(b), "--holdout", "3", "--scale", "2"]
    args += ["--channels", "16", "--min-blocks", "1", "--max-blocks", "1", "--upsamplers", "direct"]
    args += ["--iters", "4", "--patch", "32", "--batch", "2", "--population", "3", "--topk", "2"]
    args += ["--generations", "1", "--latency-input", "16x16", "--baselines", "espcn", "imdn:blocks=2"]
    args += ["--budgets-from-baselines", "--retrain-iters", "3", "--retrain-baselines", "all"]
    args += ["--benchmarks", str(bench), "--timing-rounds", "2"]
    assert main([*args, "--until", "evolution"]) == 0
    log = RunLog(out / "log.jsonl")
    assert not log.of_kind("retrained") and log.of_kind("candidate") and len(log.of_kind("baseline")) == 2
    assert main([*args, "--resume", "--only", "baseline_espcn"]) == 0
    assert [r["label"] for r in RunLog(out / "log.jsonl").of_kind("retrained")] == ["baseline_espcn"]
    assert main([*args, "--resume"]) == 0
    assert main([*args, "--resume"]) == 0  # a finished run: nothing again
    log = RunLog(out / "log.jsonl")
    keys = [r["key"] for r in log.records]
    assert len(keys) == len(set(keys))
    retrained = {r["label"]: r for r in log.of_kind("retrained")}
    assert {"baseline_espcn", "baseline_imdn_blocks2"} < set(retrained) and len(retrained) >= 3
    assert all(set(r["scores"]) == {"bench"} and r["psnr"] == r["scores"]["bench"]["psnr"] for r in retrained.values())
    timings = {t["label"]: t for t in log.of_kind("timing")}
    assert set(timings) == set(retrained) and all(len(t["rounds_ms"]) == 2 for t in timings.values())
    front = json.loads((out / "front.json").read_text())
    assert {p["label"] for p in front["comparison"]["points"]} == set(retrained)
    assert set(front["cost"]) >= {"supernet", "retrain", "total"}
    assert "| model | group |" in (out / "report.md").read_text()
    assert "scored on bench under the protocol" in (out / "report.md").read_text()
    assert f"on {report.RUNTIME_WORDS['torch']}," in (out / "report.md").read_text()  # the suite's runtime
    genotypes = sorted((out / "genotypes").iterdir())
    assert main(["report", str(out)]) == 0  # the report rebuilt: the same exports (the baselines' budgets)
    assert sorted((out / "genotypes").iterdir()) == genotypes
    assert json.loads((out / "front.json").read_text())["comparison"] == front["comparison"]


def _tiny_search(out: Path, data: Path, *extra: str) -> list[str]:
    """A search of seconds up to its exports: width 16, up to two blocks, budgets from two baselines."""
    args = ["spos", "--out", str(out), "--data", str(data), "--holdout", "3", "--scale", "2", "--channels", "16"]
    args += ["--max-blocks", "2", "--upsamplers", "direct", "--iters", "2", "--patch", "32", "--batch", "2"]
    args += ["--population", "4", "--topk", "2", "--generations", "1", "--latency-input", "16x16"]
    return [*args, "--baselines", "espcn", "imdn:blocks=2", "--budgets-from-baselines", "--until", "evolution", *extra]


def test_budgets_and_picks_come_from_the_rechecked_rounds(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", [f"a{i}" for i in range(4)], 0)
    out = tmp_path / "run"
    args = _tiny_search(out, a, "--min-blocks", "1", "--budget-margin", "0.9", "--budget-rounds", "2")
    assert main(args) == 0
    log = RunLog(out / "log.jsonl")
    again = {r["of"]: r for r in log.of_kind("recheck")}
    front = {p["key"] for p in json.loads((out / "front.json").read_text())["front"]}
    assert set(again) == front | {"baseline:espcn", "baseline:imdn:blocks=2"}
    assert all(len(r["rounds_ms"]) == 2 for r in again.values())
    budgets = sorted(0.9 * again[f"baseline:{b}"]["median_ms"] for b in ("espcn", "imdn:blocks=2"))
    picks = [json.loads(p.read_text())["_search"] for p in sorted((out / "genotypes").iterdir())]
    assert picks
    for pick in picks:  # each pick's latency is its rechecked median, within a budget from the rechecks
        assert pick["key"] in front and pick["latency_ms"] == again[pick["key"]]["median_ms"]
        assert pick["budget_ms"] in budgets and pick["latency_ms"] <= pick["budget_ms"]
    assert main([*args, "--resume"]) == 0 and main(["report", str(out)]) == 0
    assert RunLog(out / "log.jsonl").of_kind("recheck") == log.of_kind("recheck")  # timed once
    assert [json.loads(p.read_text())["_search"] for p in sorted((out / "genotypes").iterdir())] == picks


def test_options_left_out_keep_the_configs_own_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import srkit.cli.search.spos as cli

    seen: list[SearchConfig] = []
    monkeypatch.setattr(cli, "owned", lambda args: (_ for _ in ()).throw(SystemExit("stop")))
    real = cli.config
    monkeypatch.setattr(cli, "config", lambda args: seen.append(real(args)) or seen[-1])
    with pytest.raises(SystemExit, match="stop"):
        main(["spos", "--out", "unused"])
    assert seen[-1] == SearchConfig()  # every default is the dataclasses', the device included
    with pytest.raises(SystemExit, match="stop"):
        main(["spos", "--out", "unused", "--seed", "3", "--retrain-baselines", "--holdout", "4"])
    cfg = seen[-1]
    assert (cfg.supernet.seed, cfg.evolution.seed, cfg.holdout, cfg.retrain_baselines) == (3, 3, 4, ())
    assert cfg.supernet.iters == SearchConfig().supernet.iters


def test_the_other_search_commands_keep_their_configs_defaults(tmp_path: Path) -> None:
    from srkit.search.curves import CurvesConfig
    from srkit.search.nni_adapter import ExperimentConfig, NNISettings
    from srkit.search.reinforce import DenseSearchConfig

    from srkit.cli import search as cli

    parse = cli.parser().parse_args
    bench = str(tmp_path)
    curves = cli.curves.config(parse(["curves", "--out", "o", "--models", "imdn", "--benchmarks", bench]))
    assert curves == CurvesConfig(models=("imdn",), benchmarks=(str(Path(bench).resolve()),))
    settings, experiment = cli.nni.settings(parse(["nni", "--out", "o"]))
    assert (settings, experiment) == (NNISettings(out="o", space=BlockSpace().as_dict()), ExperimentConfig())
    assert cli.reinforce.config(parse(["reinforce", "--out", "o"])) == DenseSearchConfig()
    assert cli.reinforce.config(parse(["reinforce", "--out", "o", "--iters", "7"])).supernet.iters == 7


def _cand(key: str, psnr: float, ms: float) -> dict:
    return {"key": key, "psnr": psnr, "latency_ms": ms, "arch": {"channels": 16, "blocks": []}}


def test_a_shortlist_is_the_proxys_best_under_each_budget_and_the_pick_its_best_trained() -> None:
    pts = [_cand("a", 26.70, 40.0), _cand("b", 26.69, 30.0), _cand("c", 26.60, 20.0), _cand("d", 26.10, 5.0)]
    assert [p["key"] for p in pareto.shortlist(pts, [25.0, 50.0], 2)] == ["c", "d", "a", "b"]
    trained = {k: {"psnr": v} for k, v in {"a": 29.1, "b": 29.4, "c": 29.0, "d": 28.0}.items()}
    assert report.pick(pts, 50.0, trained, 2)["key"] == "b"  # the proxy's best is not the trained best
    assert report.pick(pts, 50.0, trained, 0)["key"] == "a"  # without ranking: the proxy's best
    assert report.pick(pts, 1.0, trained, 2) is None
    with pytest.raises(ValueError, match="^b: shortlisted under 50 ms but not yet trained"):
        report.pick(pts, 50.0, {"a": trained["a"]}, 2)


def test_a_shortlist_spreads_over_the_latencies_of_a_tie_the_supernet_cannot_break() -> None:
    pts = [_cand(k, 26.67 - i * 0.001, ms) for i, (k, ms) in enumerate([("a", 24), ("b", 63), ("c", 8), ("d", 105)])]
    pts += [_cand("e", 26.60, 40.0), _cand("f", 26.66, 200.0)]
    assert [p["key"] for p in pareto.shortlist_under(pts, 150.0, 3)] == ["a", "b", "c"]  # no tolerance: by PSNR
    spread = pareto.shortlist_under(pts, 150.0, 3, tolerance=0.01)  # a-d tie: fastest, slowest, between
    assert [p["key"] for p in spread] == ["c", "a", "d"]
    assert [p["key"] for p in pareto.shortlist_under(pts, 150.0, 1, tolerance=0.01)] == ["a"]
    assert [p["key"] for p in pareto.shortlist_under(pts, 150.0, 4, tolerance=0.01)] == ["a", "b", "c", "d"]
    assert [p["key"] for p in pareto.shortlist(pts, [30.0, 150.0], 2, tolerance=0.01)] == ["a", "c", "d"]
    trained = {p["key"]: {"psnr": 29.0 + p["latency_ms"] / 1000} for p in pts}
    assert report.pick(pts, 150.0, trained, 3, tolerance=0.01)["key"] == "d"
    assert report.pick(pts, 150.0, trained, 3)["key"] == "b"


def test_holdout_keeps_every_nth_image_out_of_training() -> None:
    pairs = [(str(i), None, None) for i in range(7)]
    train, held = holdout_split(pairs, 3)  # type: ignore[arg-type]
    assert [n for n, _, _ in held] == ["0", "3", "6"] and [n for n, _, _ in train] == ["1", "2", "4", "5"]
    assert holdout_split(pairs, 0) == (pairs, [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="holdout 8: needs 2 <= holdout <= the 7 training images"):
        holdout_split(pairs, 8)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("tolerance", [0.0, 1.0])
def test_a_ranked_study_trains_each_shortlisted_architecture_once_and_exports_the_best(
    tmp_path: Path, tolerance: float
) -> None:
    a = _folder(tmp_path / "a", [f"a{i}" for i in range(6)], 0)
    out = tmp_path / "run"
    args = _tiny_search(out, a, "--min-blocks", "0", "--budget-rounds", "1", "--rank-top", "2", "--rank-iters", "3")
    args += ["--rank-tolerance", str(tolerance)]
    assert main(args) == 0
    log = RunLog(out / "log.jsonl")
    trained = report.ranked(log)
    budgets = run_budgets(read_config(out), log)
    listed = pareto.shortlist(report.exportable(log), budgets, 2, tolerance)
    assert trained and set(trained) == {p["key"] for p in listed}
    rechecked = report.rechecked(log)
    for r in trained.values():  # trained on the training split, scored on the held-out images
        cfg = yaml.safe_load((rank_folder(out, r["of"]) / "config.yaml").read_text())
        assert cfg["data"]["holdout"] == 3 and cfg["data"]["val_data"] is None and cfg["iters"] == 3
        assert Path(cfg["model"]) == out / "rank" / re.sub(r"[:/]", "_", r["of"]) / "genotype.json"
        metrics = json.loads((rank_folder(out, r["of"]) / "metrics.json").read_text())
        assert metrics["val_images"] == ["a0", "a3"] and metrics["val_psnr"] == r["psnr"]
        assert r["of"] in rechecked  # every shortlisted architecture was timed in the rounds
    for g in (out / "genotypes").iterdir():
        s = json.loads(g.read_text())["_search"]
        under = pareto.shortlist_under(report.exportable(log), s["budget_ms"], 2, tolerance)
        assert all(p in listed for p in under)
        best = max(under, key=lambda p: (trained[p["key"]]["psnr"], p["psnr"]))
        assert s["key"] == best["key"] and s["psnr_ranked"] == trained[best["key"]]["psnr"]
    picks = sorted(g.read_text() for g in (out / "genotypes").iterdir())
    assert picks and all('"psnr_ranked"' in g for g in picks)
    assert main([*args, "--resume"]) == 0 and main(["report", str(out)]) == 0
    assert RunLog(out / "log.jsonl").of_kind("ranked") == log.of_kind("ranked")  # each trained once
    assert sorted(g.read_text() for g in (out / "genotypes").iterdir()) == picks
    assert json.loads((out / "front.json").read_text())["ranked"] == log.of_kind("ranked")
    lines = (out / "log.jsonl").read_text().splitlines()  # a run killed before its ranking finished
    (out / "log.jsonl").write_text("\n".join(x for x in lines if '"kind": "ranked"' not in x) + "\n")
    assert main(["report", str(out)]) == 2


def test_official_checkpoints_stand_beside_the_retrained_networks_outside_the_verdict(tmp_path: Path) -> None:
    from srkit.models import create_model, save

    a = _folder(tmp_path / "a", [f"a{i}" for i in range(4)], 0)
    bench = _folder(tmp_path / "bench", ["x", "y"], 2)
    published = tmp_path / "espcn_x2.safetensors"
    save(create_model("espcn", scale=2), published)
    out = tmp_path / "run"
    args = _tiny_search(out, a, "--min-blocks", "1").copy()
    args = [x for x in args if x not in ("--until", "evolution")]
    args += ["--retrain-iters", "2", "--retrain-baselines", "espcn", "--benchmarks", str(bench)]
    args += ["--timing-rounds", "2", "--official", f"ESPCN={published}"]
    assert main(args) == 0
    log = RunLog(out / "log.jsonl")
    (rec,) = log.of_kind("official")
    assert rec["label"] == "ESPCN" and set(rec["scores"]) == {"bench"} and rec["file"] == published.name
    assert len(log.get("timing:official_ESPCN")["rounds_ms"]) == 2
    front = json.loads((out / "front.json").read_text())
    groups = {p["label"]: p["group"] for p in front["comparison"]["points"]}
    assert groups["official_ESPCN"] == "official" and groups["baseline_espcn"] == "baseline"
    assert all("official_ESPCN" not in beaten for beaten in front["comparison"]["dominated_by_found"].values())
    assert "official_ESPCN" not in front["comparison"]["baseline_front"]
    md = (out / "report.md").read_text()
    assert "| official_ESPCN | official |" in md and "the verdict compares retrained networks only" in md
    assert main([*args, "--resume"]) == 0
    assert RunLog(out / "log.jsonl").of_kind("official") == [rec]  # scored once


def test_official_checkpoints_need_their_files_and_benchmarks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = str(tmp_path / "run")
    assert main(["spos", "--out", out, "--official", f"X={tmp_path / 'none.pth'}"]) == 2
    assert "no such checkpoint file" in capsys.readouterr().err
    (tmp_path / "x.pth").write_bytes(b"")
    assert main(["spos", "--out", out, "--official", f"X={tmp_path / 'x.pth'}"]) == 2
    assert "--official" in capsys.readouterr().err.splitlines()[-1]


def test_a_search_resumed_on_another_machine_trains_but_does_not_time(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from srkit.search.spos import timing_elsewhere

    from srkit.profiler.device import fingerprint

    out, fp = tmp_path / "run", fingerprint("cpu")
    args = _tiny_search(out, _folder(tmp_path / "a", [f"a{i}" for i in range(6)], 0), "--min-blocks", "0")
    args += ["--rank-iters", "2", "--fidelity-sample", "3", "--fidelity-iters", "3"]
    assert main([*args, "--until", "supernet"]) == 0  # the first sitting: the baselines timed here
    cfg = SearchConfig(device="cpu")
    (out / "fingerprint.json").write_text(json.dumps(fp | {"date": "then", "commit": "old"}))
    assert timing_elsewhere(out, cfg) == []  # the same machine: its date and commit do not matter
    (out / "fingerprint.json").write_text(json.dumps({k: v for k, v in fp.items() if k != "host"}))
    assert timing_elsewhere(out, cfg) == []  # a record from before hosts were recorded
    (out / "fingerprint.json").write_text(json.dumps(fp | {"host": "0123abcd"}))
    timed = RunLog(out / "log.jsonl").of_kind("baseline")
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2  # elsewhere: the fidelity sample trained, then one refusal
    err = capsys.readouterr().err.strip().splitlines()
    assert "host: '0123abcd' there" in err[-1] and "the supernet and the fidelity sample" in err[-1], err
    log = RunLog(out / "log.jsonl")
    assert log.of_kind("baseline") == timed and not log.of_kind("candidate")  # nothing timed elsewhere
    assert {(r["iters"]) for r in log.of_kind("fidelity_trained")} == {2, 3} and len(
        log.of_kind("fidelity_trained")
    ) == 6
    assert len(json.loads((out / "fidelity.json").read_text())) == 2
    (out / "fingerprint.json").write_text(json.dumps(fp))
    assert main([*args, "--resume"]) == 0  # back where it started: evolution timed, no training again
    again = RunLog(out / "log.jsonl")
    assert again.of_kind("candidate") and again.of_kind("fidelity_trained") == log.of_kind("fidelity_trained")
    keys = [r["key"] for r in again.records]
    assert len(keys) == len(set(keys))


def test_a_record_without_a_latency_runtime_was_timed_on_torch() -> None:
    from srkit.search.spos import recorded_config, same_config

    before = {k: v for k, v in json.loads(json.dumps(SearchConfig().as_dict())).items() if k != "latency_runtime"}
    assert recorded_config(before)["latency_runtime"] == "torch"  # the default when it was recorded
    assert same_config(before, SearchConfig(latency_runtime="torch"))
    assert not same_config(before, SearchConfig(latency_runtime="auto"))


@pytest.mark.slow
def test_the_fidelity_sample_ranks_the_supernet_and_short_training_against_long_training(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    a = _folder(tmp_path / "a", [f"a{i}" for i in range(6)], 0)
    out = tmp_path / "run"
    args = _tiny_search(out, a, "--min-blocks", "0", "--rank-top", "1", "--rank-iters", "2")
    args += ["--fidelity-sample", "4", "--fidelity-iters", "3"]
    assert main(args) == 0
    log = RunLog(out / "log.jsonl")
    members = log.of_kind("fidelity_member")
    shortlisted = {r["of"] for r in log.of_kind("ranked")}
    assert len(members) == 4 and len({m["of"] for m in members}) == 4
    assert [m["drawn"] for m in members] == ["shortlist"] * len(shortlisted) + ["random"] * (4 - len(shortlisted))
    assert {m["of"] for m in members if m["drawn"] == "shortlist"} == shortlisted
    trained = {(r["of"], r["iters"]) for r in log.of_kind("fidelity_trained")}
    every = {m["of"] for m in members}
    # the long budget for all; the short one only where the ranking has not trained it already
    assert trained == {(k, 3) for k in every} | {(k, 2) for k in every - shortlisted}
    for k, iters in trained:  # held-out images, never a benchmark, for the budget asked
        cfg = yaml.safe_load((out / "fidelity" / f"{rank_folder(out, k).name}@{iters}" / "config.yaml").read_text())
        assert cfg["iters"] == iters and cfg["data"]["holdout"] == 3 and cfg["data"]["val_data"] is None
        assert cfg["val_every"] == min(iters, FIDELITY_CHECKPOINT)
    long = _fidelity_job(SearchConfig(device="cpu"), tmp_path / "long", Arch.from_dict(members[0]["arch"]), 16000)
    assert long.train["iters"] == 16000 and long.train["val_every"] == FIDELITY_CHECKPOINT  # checkpoints between
    fid = json.loads((out / "fidelity.json").read_text())
    assert [(r["signal"], r["n"]) for r in fid] == [
        ("supernet PSNR (held-out)", 4),
        ("stand-alone training, 2 iterations (held-out PSNR)", 4),
    ]
    assert all(r["reference"] == "stand-alone training, 3 iterations (held-out PSNR)" for r in fid)
    assert all(-1 <= r["kendall_tau"] <= 1 and len(r["ci95"]["kendall_tau"]) == 2 for r in fid)
    assert json.loads((out / "front.json").read_text())["fidelity"] == fid
    before = log.records
    lines = (out / "log.jsonl").read_text().splitlines()  # killed before its last long training was logged
    last = max(i for i, x in enumerate(lines) if '"iters": 3' in x and "fidelity_trained" in x)
    (out / "log.jsonl").write_text("\n".join(lines[:last] + lines[last + 1 :]) + "\n")
    assert main([*args, "--resume"]) == 0
    again = [r["key"] for r in RunLog(out / "log.jsonl").records if r["kind"] != "cost"]  # a sitting logs its cost
    assert sorted(again) == sorted(r["key"] for r in before if r["kind"] != "cost")  # every record once
    assert json.loads(lines[last])["key"] in again  # the lost training ran again, once
    # another supernet rule on the same sample: the trainings taken from the first run, none run again
    other = tmp_path / "sandwich"
    rule = ["--supernet-rule", "sandwich", "--sandwich-random", "1", "--fidelity-from", str(out)]
    assert main([*_tiny_search(other, a, "--min-blocks", "0", "--rank-iters", "2"), *args[-4:], *rule]) == 0
    log2 = RunLog(other / "log.jsonl")
    first, second = ({r["of"] for r in lg.of_kind("fidelity_member")} for lg in (log, log2))
    taken = [r for r in log2.of_kind("fidelity_trained") if "from" in r]
    mine = {(r["of"], r["iters"]): r["psnr"] for r in RunLog(out / "log.jsonl").of_kind("fidelity_trained")}
    assert {r["of"] for r in taken} == first & second and len(first & second) >= 2  # the random draws agree
    assert all(r["from"] == str(out) and mine[(r["of"], r["iters"])] == r["psnr"] for r in taken)
    here = {f.name.split("@")[0] for f in (other / "fidelity").iterdir()} if (other / "fidelity").exists() else set()
    assert here == {rank_folder(other, k).name for k in second - first}  # only the members new to this sample
    bad = [*_tiny_search(tmp_path / "p", a, "--patch", "40"), *args[-4:], "--fidelity-from", str(out)]
    capsys.readouterr()
    assert main(bad) == 2  # another recipe (the patch): refused before anything is written
    err = capsys.readouterr().err
    assert "another recipe" in err and "--patch" in err
    assert not any((tmp_path / "p" / f).exists() for f in ("supernet.pt", "log.jsonl"))  # nothing trained or logged
