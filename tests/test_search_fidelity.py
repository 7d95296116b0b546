"""Rank agreement: Kendall tau and Spearman rho with bootstrap intervals, checked on known orders."""

from __future__ import annotations

import pytest
from scipy import stats
from srkit.search.fidelity import agreement


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
