"""Rank agreement: Kendall tau and Spearman rho with bootstrap intervals, checked on known orders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy import stats
from srkit.search.fidelity import agreement, from_log, member_folder
from srkit.search.runlog import RunLog


def test_identical_orders_agree_fully_and_reversed_orders_not_at_all() -> None:
    a = {f"n{i}": float(i) for i in range(12)}
    same = agreement(a, {k: 2 * v + 1 for k, v in a.items()})
    assert same["kendall_tau"] == pytest.approx(1.0) and same["spearman"] == pytest.approx(1.0)
    assert same["ci95"]["kendall_tau"] == pytest.approx([1.0, 1.0])
    rev = agreement(a, {k: -v for k, v in a.items()})
    assert rev["kendall_tau"] == pytest.approx(-1.0) and rev["n"] == 12


def test_the_interval_holds_the_estimate_and_matches_scipy() -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    x = rng.normal(size=15)
    y = x + rng.normal(scale=1.0, size=15)
    a, b = ({f"n{i}": float(v[i]) for i in range(15)} for v in (x, y))
    r = agreement(a, b, seed=1)
    assert r["kendall_tau"] == pytest.approx(stats.kendalltau(x, y).statistic)
    lo, hi = r["ci95"]["kendall_tau"]
    assert lo <= r["kendall_tau"] <= hi and hi - lo > 0.1  # 15 noisy networks: a wide interval
    assert agreement(a, b, seed=1) == r  # seeded: the same interval again


def test_only_networks_scored_by_both_count_and_too_few_are_refused() -> None:
    r = agreement({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 3, "x": 0})
    assert r["n"] == 3 and r["names"] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="at least 3"):
        agreement({"a": 1, "b": 2}, {"a": 1, "b": 2})


def _member(run: Path, log: RunLog, key: str, curve: dict[int, float], source: Path | None = None) -> None:
    """A fidelity member trained for 8 iterations, validated at ``curve``'s iterations (8: its end)."""
    log.append({"kind": "fidelity_member", "key": f"fidelity_member:{key}", "of": key, "psnr_supernet": curve[8]})
    rec = {"kind": "fidelity_trained", "key": f"fidelity_trained:{key}:8", "of": key, "iters": 8, "psnr": curve[8]}
    log.append(rec | {"ssim": 0.5, "train_seconds": 1.0} | ({"from": str(source)} if source else {}))
    folder = member_folder(source or run, key, 8)
    folder.mkdir(parents=True)
    lines = [json.dumps({"iteration": i, "loss": 0.1, "val_psnr": p}) for i, p in curve.items()]
    (folder / "log.jsonl").write_text("\n".join(lines) + "\n")


def test_the_long_trainings_own_validations_rank_against_their_end(tmp_path: Path) -> None:
    run, other = tmp_path / "run", tmp_path / "other"
    log = RunLog(run / "log.jsonl")
    _member(run, log, "a+b", {4: 20.0, 6: 21.0, 8: 22.0})
    _member(run, log, "c", {4: 22.0, 6: 20.5, 8: 21.0})
    _member(run, log, "d", {4: 21.0, 6: 19.0, 8: 20.0}, source=other)  # adopted: its log lies in the other run
    _member(run, log, "e", {6: 18.0, 8: 19.0})  # no validation at 4: iteration 4 ranks three
    records = {r["signal"]: r for r in from_log(log, run)}
    at4, at6 = (next(r for s, r in records.items() if f"iteration {i} of 8" in s) for i in (4, 6))
    assert (at4["n"], at6["n"]) == (3, 4) and len(records) == 3  # the supernet's, then the two snapshots
    assert at6["kendall_tau"] == pytest.approx(1.0)  # at 6 every member stands where it ends
    assert at4["kendall_tau"] == pytest.approx(stats.kendalltau([20, 22, 21], [22, 21, 20]).statistic)
    assert len(from_log(log)) == 1  # without the run folder: the supernet's alone
