"""bench/default_runtime.py: the one-image verdict reads fresh processes round by round."""

from __future__ import annotations

import subprocess

import pytest

from bench import default_runtime as dr


def _rows(compile_s: float, ort_s: float) -> list[dict]:
    return [
        {"variant": "compile", "channels_last": False, "first_call_s": compile_s},
        {"variant": "ort", "channels_last": False, "first_call_s": ort_s},
    ]


def test_one_busy_round_does_not_decide_the_first_image() -> None:
    # round 0 caught the default in a busy stretch; rounds 1 and 2 read it 4% behind channels_last
    fresh = {"eager": [0.07, 0.11, 0.07], "eager+cl": [0.04, 0.10, 0.05], "default": [0.06, 0.104, 0.052]}
    got = dr.first_image(_rows(20.0, 5.0), fresh)
    assert got["first_image_best_alternative"] == "eager+cl"
    assert got["first_image_default_over_best"] == pytest.approx(0.05 / 0.052)
    assert got["first_image_default_over_best_min"] == pytest.approx(0.04 / 0.06)
    assert got["first_image_meets_0.95"]
    # separate medians (0.05 against 0.06) would have read 0.83: the pairing is what the test is about
    assert 0.05 / 0.06 < 0.95


def test_a_default_slower_in_every_round_misses() -> None:
    fresh = {"eager": [0.2, 0.2], "eager+cl": [0.10, 0.12], "default": [0.12, 0.14]}
    got = dr.first_image(_rows(20.0, 5.0), fresh)
    assert not got["first_image_meets_0.95"]
    assert got["first_image_default_over_best_max"] == pytest.approx(0.12 / 0.14)


def test_a_soonest_export_is_compared_with_every_round_of_the_default() -> None:
    fresh = {"eager": [3.0, 3.0], "eager+cl": [2.5, 2.5], "default": [1.0, 2.0]}
    got = dr.first_image(_rows(20.0, 0.9), fresh)
    assert got["first_image_best_alternative"] == "ort"
    assert got["first_image_default_over_best"] == pytest.approx((0.9 + 0.45) / 2)


def test_fresh_rounds_rotate_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(cmd[-1])
        return subprocess.CompletedProcess(cmd, 0, stdout="0.5\n")

    monkeypatch.setattr(dr.subprocess, "run", run)
    out = dr.fresh_first_images("espcn", 3)
    assert seen[:3] == list(dr.FRESH) and seen[3:6] == [*dr.FRESH[1:], dr.FRESH[0]]
    assert {len(v) for v in out.values()} == {3}
    assert sorted(seen[0::3]) == sorted(dr.FRESH)  # each runtime opens one round


def test_the_median_interval_is_the_order_statistics_a_binomial_count_gives() -> None:
    xs = [0.91, 0.72, 1.30, 0.88, 1.02, 0.97, 0.80, 1.10, 0.95]
    # n = 9: P(Bin(9, 1/2) <= 1) = 10/512 per tail, so the 2nd and 8th of the sorted nine (96.1%)
    assert dr.median_ci95(xs) == (sorted(xs)[1], sorted(xs)[7])
    assert dr.median_ci95(xs[:5]) == (min(xs[:5]), max(xs[:5]))  # five cannot reach 95%: the range


def _record(tmp_path, default_s: float, best: str | None = None, **fingerprint: str) -> tuple:
    fresh = {"eager": [0.3] * 3, "eager+cl": [0.2] * 3, "default": [0.19, 0.22, default_s]}
    path = tmp_path / "r.json"
    model = {"model": "espcn", "rows": _rows(20.0, 5.0), "first_image_fresh_process_s": fresh}
    if best:  # as a record's verdict names it
        model["first_image_best_alternative"] = best
    fp = dr.fingerprint("cpu") | fingerprint  # this machine's, unless told otherwise
    path.write_text(dr.json.dumps({"fingerprint": fp, "models": [model]}))
    return path


def test_rounds_name_their_cpu_and_another_cpus_record_is_refused(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(dr, "first_image_in_a_process", lambda n, v: {"eager": 0.3, "eager+cl": 0.2}.get(v, 0.1))
    path = _record(tmp_path, 0.21)
    dr.more_first_image_rounds(path, until=6, every=True)
    (added,) = dr.json.loads(path.read_text())["models"][0]["first_image_rounds_added"]
    assert {k: added[k] for k in dr.CPU_KEYS} == {k: dr.fingerprint("cpu")[k] for k in dr.CPU_KEYS}
    other = _record(tmp_path, 0.21, cpu_isa="AVX2" if added["cpu_isa"] != "AVX2" else "AVX512")
    before = other.read_text()
    with pytest.raises(SystemExit, match="another machine or CPU \\(cpu_isa: "):
        dr.more_first_image_rounds(other, until=6, every=True)
    assert other.read_text() == before  # nothing pooled, nothing written
    older = dr.json.loads(path.read_text())
    older["fingerprint"] = {k: v for k, v in older["fingerprint"].items() if k not in dr.CPU_KEYS}
    path.write_text(dr.json.dumps(older))
    capsys.readouterr()
    dr.more_first_image_rounds(path, until=9, every=True)
    assert "does not name its CPU" in capsys.readouterr().out


def test_more_rounds_go_on_until_the_interval_leaves_0_95(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def one(name: str, variant: str) -> float:
        seen.append(variant)
        return {"eager": 0.3, "eager+cl": 0.2}.get(variant, 0.25)  # the default 0.8x in every new round

    monkeypatch.setattr(dr, "first_image_in_a_process", one)
    path = _record(tmp_path, 0.21)
    dr.more_first_image_rounds(path, until=30)
    (m,) = dr.json.loads(path.read_text())["models"]
    rounds = len(m["first_image_fresh_process_s"]["default"])
    # three rounds read 0.95-1.05; six slower ones leave 0.95 inside the interval, nine do not
    assert rounds == 12 and m["first_image_resolved"] and not m["first_image_meets_0.95"]
    assert [a["rounds"] for a in m["first_image_rounds_added"]] == [3, 3, 3]
    assert seen[:3] == list(dr.FRESH)  # round 3 opens as round 0 did: the rotation goes on
    assert dr.json.loads(path.read_text())["summary"]["first_image_resolved_below_0.95"] == 1


def test_more_rounds_stop_at_the_cap_and_say_the_verdict_is_open(tmp_path, monkeypatch) -> None:
    flip = iter(range(10**6))
    monkeypatch.setattr(dr, "first_image_in_a_process", lambda n, v: 0.3 if v == "eager" else 0.2 + next(flip) % 2 / 10)
    path = _record(tmp_path, 0.21)
    dr.more_first_image_rounds(path, until=7)
    (m,) = dr.json.loads(path.read_text())["models"]
    assert len(m["first_image_fresh_process_s"]["default"]) == 7
    assert [a["rounds"] for a in m["first_image_rounds_added"]] == [3, 1]
    assert dr.json.loads(path.read_text())["summary"]["first_image_unresolved"] == 1


def test_an_a_a_times_one_runtime_against_itself(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(cmd[-2:])
        return subprocess.CompletedProcess(cmd, 0, stdout=f"{0.1 * len(seen)}\n")

    monkeypatch.setattr(dr.subprocess, "run", run)
    path = _record(tmp_path, 0.21, best="eager+cl")
    dr.aa_first_images(path, ["espcn"], 2)
    aa = dr.json.loads(path.read_text())["first_image_aa"]["espcn"]
    assert seen == [["espcn", "eager+cl"]] * 4  # the second copy is the same runtime, not a name the bench lacks
    # round 0: A at 0.1 s, then B at 0.2 s; round 1 rotated: B at 0.3 s, then A at 0.4 s
    assert aa["runtime"] == "eager+cl" and aa["median"] == pytest.approx((0.5 + 0.4 / 0.3) / 2)


def test_every_brings_a_decided_model_to_the_fixed_number_of_rounds(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(dr, "first_image_in_a_process", lambda n, v: {"eager": 0.3, "eager+cl": 0.2}.get(v, 0.1))
    path = _record(tmp_path, 0.21)
    dr.more_first_image_rounds(path, until=12, every=True)
    record = dr.json.loads(path.read_text())
    assert len(record["models"][0]["first_image_fresh_process_s"]["default"]) == 12  # decided at 9, taken on
    assert "fixed" in record["first_image_stopping"]


def test_a_refresh_of_named_models_replaces_their_rounds_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(dr, "first_image_in_a_process", lambda n, v: {"eager": 0.3, "eager+cl": 0.2}.get(v, 0.1))
    path = _record(tmp_path, 0.21)
    record = dr.json.loads(path.read_text())
    other = {**record["models"][0], "model": "span"}
    record["models"] = [record["models"][0] | {"first_image_rounds_added": [{"rounds": 3}]}, other]
    path.write_text(dr.json.dumps(record))
    dr.refresh_first_images(path, 4, ["espcn"])
    espcn, span = dr.json.loads(path.read_text())["models"]
    assert espcn["first_image_fresh_process_s"]["default"] == [0.1] * 4 and "first_image_rounds_added" not in espcn
    assert espcn["first_image_measured_at"]["rounds"] == 4 and espcn["first_image_default_over_best"] == 2.0
    assert span == other  # not named: as it was


def test_fork_rounds_time_each_try_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(dr, "first_image_forked", lambda n, v: seen.append(v) or 0.5)
    monkeypatch.setattr(dr, "first_image_in_a_process", lambda n, v: pytest.fail("a new interpreter was started"))
    out = dr.fresh_first_images("espcn", 2, how="fork")
    assert seen == [*dr.FRESH, *dr.FRESH[1:], dr.FRESH[0]] and out["default"] == [0.5, 0.5]


def test_a_forked_child_times_a_real_first_image_and_a_dead_one_says_so() -> None:
    seconds = dr.first_image_forked("espcn", "eager+cl")
    assert 0.0 < seconds < 60.0
    with pytest.raises(RuntimeError, match="no_such_model on eager exited 1"):
        dr.first_image_forked("no_such_model", "eager")


def test_the_fork_check_reads_both_ways_in_rotated_rounds(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def timer(how: str, seconds: dict[str, float]):
        return lambda n, v: seen.append(f"{v}@{how}") or seconds[v]

    # forked children read 10% sooner than new interpreters; the default 0.8x its alternative both ways
    monkeypatch.setattr(dr, "first_image_in_a_process", timer("process", {"eager+cl": 0.20, "default": 0.25}))
    monkeypatch.setattr(dr, "first_image_forked", timer("fork", {"eager+cl": 0.18, "default": 0.225}))
    path = _record(tmp_path, 0.21, best="eager+cl")
    dr.fork_check(path, ["espcn"], 8)
    got = dr.json.loads(path.read_text())["first_image_fork_check"]["espcn"]
    assert got["eager+cl_fork_over_process"]["median"] == pytest.approx(0.9)
    assert got["default_over_best_fork"]["median"] == pytest.approx(0.8) == got["default_over_best_process"]["median"]
    assert len(seen) == 32 and seen[:4] == ["eager+cl@process", "default@process", "eager+cl@fork", "default@fork"]
    assert seen[4] == "default@process"  # round 1 opens one further on


def test_more_rounds_for_named_models_leave_the_others_and_the_records_rule(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(dr, "first_image_in_a_process", lambda n, v: {"eager": 0.3, "eager+cl": 0.2}.get(v, 0.1))
    path = _record(tmp_path, 0.21)
    record = dr.json.loads(path.read_text())
    other = {**record["models"][0], "model": "span"}
    record |= {"models": [record["models"][0], other], "first_image_stopping": "the record's rule"}
    path.write_text(dr.json.dumps(record))
    dr.more_first_image_rounds(path, until=9, every=True, models=["espcn"])
    record = dr.json.loads(path.read_text())
    espcn, span = record["models"]
    assert len(espcn["first_image_fresh_process_s"]["default"]) == 9 and "fixed" in espcn["first_image_stopping"]
    assert len(span["first_image_fresh_process_s"]["default"]) == 3 and "first_image_rounds_added" not in span
    assert record["first_image_stopping"] == "the record's rule"


def test_a_stopped_record_goes_on_with_the_models_it_lacks(tmp_path, monkeypatch) -> None:
    measured: list[str] = []
    monkeypatch.setattr(dr, "bench", lambda name, *_: measured.append(name) or {"model": name, "new": True})
    path = tmp_path / f"default_runtime_{dr.slug(dr.fingerprint('cpu'))}.json"
    argv = ["default_runtime.py", "--out", str(tmp_path), "--models", "espcn", "span", "--first-repeats", "4"]
    monkeypatch.setattr(dr.sys, "argv", argv[:-3] + ["--first-repeats", "4"])  # espcn alone: a stopped run
    dr.main()
    monkeypatch.setattr(dr.sys, "argv", argv)
    dr.main()
    assert measured == ["espcn", "span"]  # espcn not measured again
    assert [m["model"] for m in dr.json.loads(path.read_text())["models"]] == ["espcn", "span"]
    before = path.read_text()
    monkeypatch.setattr(dr.sys, "argv", argv[:-1] + ["9"])
    with pytest.raises(SystemExit, match="other first-image settings \\(first_repeats: 4, asked 9\\)"):
        dr.main()
    record = dr.json.loads(before)
    record["fingerprint"]["cpu_isa"] = "another ISA"
    path.write_text(dr.json.dumps(record))
    with pytest.raises(SystemExit, match="another machine or CPU \\(cpu_isa: 'another ISA' there"):
        dr.main()
    assert dr.json.loads(path.read_text()) == record  # refused, not overwritten
