"""``srkit-bench``: the op runner's rows, and each command end to end on tiny shapes."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

import pytest
import torch

from srkit import ops
from srkit.cli import bench as cli
from srkit.models import list_models
from srkit.ops import dispatch
from srkit.profiler import cases, modelbench, opbench
from srkit.profiler.device import Peaks

PEAKS = Peaks(10.0, {"fp32": 0.1})


def _shuffle_case(dtype: torch.dtype = torch.float32) -> cases.OpCase:
    x = (torch.rand(2, 12, 7, 5) * 100).to(dtype)
    return cases.OpCase(
        "pixel_shuffle",
        tuple(x.shape),
        dtype,
        "r=2",
        [x],
        lambda t: ops.pixel_shuffle(t, 2),
        0.0,
        2 * x.numel() * x.element_size(),
        exact=True,
    )


def test_rows_name_the_backend_that_ran_and_check_against_float64() -> None:
    case = _shuffle_case()
    rows = opbench.run_case(case, "cpu", ["torch-eager", "srkit-cpp", "srkit-torch"], PEAKS, reps=3, warmup=1)
    assert [r["impl"] for r in rows] == ["torch-eager", "srkit-cpp", "srkit-torch"]
    assert [r["backend_ran"] for r in rows] == ["torch-eager", "cpp", "torch"]
    assert all(r["correct"] and r["max_abs_err"] == 0 for r in rows)
    assert rows[0]["speedup_vs_eager"] == pytest.approx(1.0)
    r = rows[1]
    assert r["GB/s"] == pytest.approx(case.nbytes / (r["median_ms"] * 1e-3) / 1e9)
    assert r["fraction_of_roofline"] == pytest.approx(case.nbytes / 10e9 * 1e3 / r["median_ms"])


def test_a_fallback_is_shown() -> None:
    torch.manual_seed(0)
    case = next(c for c in cases.wdsr_b("cpu", True))
    assert case.module is not None
    case.module.double()  # float64: the Triton kernels multiply on tensor cores, so they fall back
    case.inputs = [case.inputs[0][:, :, :9, :11].double()]  # a small, odd, non-contiguous crop
    rows = opbench.run_case(case, "cpu", ["srkit-triton"], PEAKS, reps=2, warmup=0)
    assert rows[0]["backend_ran"] == "torch"  # the CPU's choice for both WDSR-B ops
    assert (
        "wide_pointwise: triton -> torch" in rows[0]["fallback"]
        and "conv_epilogue: triton -> torch" in rows[0]["fallback"]
    )
    assert rows[0]["correct"]


def test_wrong_results_are_caught() -> None:
    case = _shuffle_case()
    want = case.reference()
    good = ops.pixel_shuffle(case.inputs[0], 2)
    assert opbench.check(case, good, want) == (True, 0.0)
    bad = good.clone()
    bad[0, 0, 3, 3] += 1e-3
    ok, err = opbench.check(case, bad, want)
    assert not ok and err == pytest.approx(1e-3, rel=1e-2)
    assert not opbench.check(case, good[:, :, :-1], want)[0]  # shape
    nan = good.clone()
    nan[0, 0, 0, 0] = float("nan")  # a poisoned element left unwritten
    assert not opbench.check(case, nan, want)[0]
    close = cases.OpCase("x", (1,), torch.float32, "", [], lambda: None, 0, 0, tol=1e-3)
    assert opbench.check(close, torch.tensor([1.0005]), torch.tensor([1.0], dtype=torch.float64))[0]
    assert not opbench.check(close, torch.tensor([1.01]), torch.tensor([1.0], dtype=torch.float64))[0]


def test_ran_summarises_a_trace() -> None:
    assert opbench.ran([]) == ("aten", None)
    calls = [
        dispatch.Call("a", "cpp", "cpu", "float32"),
        dispatch.Call("b", "torch", "cpu", "float32", "cpp", "no cpp"),
    ]
    assert opbench.ran(calls) == ("cpp+torch", "b: cpp -> torch: no cpp")


def test_every_op_case_is_right_on_every_cpu_backend() -> None:
    """The quick CPU cases at their real shapes, checked (not timed) on each implementation."""
    for case in cases.cases("cpu", quick=True):
        want = case.reference()
        for impl in opbench.implementations("cpu", compile=False):
            fn, mode = opbench.implementation(case, impl, "cpu")
            with torch.no_grad(), mode():
                ok, err = opbench.check(case, fn(*case.inputs), want)
            assert ok, (case.op, impl, err)


def _run(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("SRKIT_CACHE_DIR", str(tmp_path / "cache"))
    return cli.main(argv)


def _fast_peaks(monkeypatch: pytest.MonkeyPatch) -> None:
    from srkit.profiler import device

    monkeypatch.setattr(device, "measure_bandwidth", lambda dev, mib=0: 10.0)
    monkeypatch.setattr(device, "measure_matmul", lambda dev, dt, n: 0.1)


def test_ops_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_peaks(monkeypatch)
    out = tmp_path / "o"
    assert (
        _run(
            [
                "ops",
                "--only",
                "pixel_shuffle",
                "cca",
                "--quick",
                "--reps",
                "2",
                "--max-seconds",
                "0.2",
                "--out",
                str(out),
            ],
            tmp_path,
            monkeypatch,
        )
        == 0
    )
    (j,) = out.glob("ops_*.json")
    rec = json.loads(j.read_text())
    assert rec["fingerprint"]["device_type"] == "cpu" and rec["peaks"]["bandwidth_GBps"] == 10.0
    assert {r["op"] for r in rec["rows"]} == {"pixel_shuffle", "cca"}
    assert {r["impl"] for r in rec["rows"]} == {"torch-eager", "srkit-cpp", "srkit-torch"}
    assert all(r["correct"] for r in rec["rows"])
    assert (out / j.name.replace(".json", ".csv")).read_text().startswith("op,impl,backend_ran")
    assert (out / j.name.replace(".json", ".png")).read_bytes()[:4] == b"\x89PNG"


def test_model_command_with_breakdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_peaks(monkeypatch)
    out = tmp_path / "m"
    assert (
        _run(
            [
                "model",
                "srcnn_ps",
                "imdn",
                "--scale",
                "2",
                "--input",
                "24x40",
                "--variants",
                "eager",
                "srkit",
                "--reps",
                "2",
                "--max-seconds",
                "0.2",
                "--out",
                str(out),
            ],
            tmp_path,
            monkeypatch,
        )
        == 0
    )
    (j,) = out.glob("model_*.json")
    rec = json.loads(j.read_text())
    rows = {(r["model"], r["variant"]): r for r in rec["rows"]}
    assert set(rows) == {("srcnn_ps", "eager"), ("srcnn_ps", "srkit"), ("imdn", "eager"), ("imdn", "srkit")}
    assert rows[("imdn", "srkit")]["backend_ran"] == "cpp" and rows[("imdn", "eager")]["backend_ran"] == "torch-eager"
    assert rows[("imdn", "srkit")]["out_hw"] == [24, 40] and rows[("imdn", "srkit")]["lr_hw"] == [12, 20]
    assert rows[("imdn", "srkit")]["max_abs_diff"] < 1e-4
    layers = [r for r in rec["layers"] if r["model"] == "imdn"]
    children = [r for r in layers if r["level"] == "child"]
    assert {r["layer"] for r in children} >= {"fea_conv", "IMDB1", "IMDB6", "upsampler", "(code between children)"}
    total = next(r for r in layers if r["level"] == "total")["ms"]
    assert sum(r["ms"] for r in children) == pytest.approx(total, rel=1e-6)  # children + the code between = the whole
    assert (out / j.name.replace(".json", ".png")).is_file()


def test_model_command_names_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fast_peaks(monkeypatch)
    assert _run(["model", "imnd", "--input", "24x24", "--out", str(tmp_path)], tmp_path, monkeypatch) == 2
    assert "imnd" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run(["model", "imdn", "--input", "huge", "--out", str(tmp_path)], tmp_path, monkeypatch)
    with pytest.raises(SystemExit) as e:
        _run(
            ["ops", "--device", "cuda"] if not torch.cuda.is_available() else ["ops", "--reps", "0"],
            tmp_path,
            monkeypatch,
        )
    assert e.value.code == 2 and re.search("no CUDA device|--reps", capsys.readouterr().err)


def test_lut_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "l"
    assert (
        _run(
            [
                "lut",
                "--widths",
                "16",
                "--sizes",
                "16x16",
                "--scales",
                "2",
                "--blocks",
                "{type: wdsr_b, expansion: 2}",
                "{type: wdsr_a, expansion: 2}",
                "--upsamplers",
                "direct",
                "nearest",
                "--reps",
                "2",
                "--max-seconds",
                "0.2",
                "--validate",
                "2",
                "--out",
                str(out),
            ],
            tmp_path,
            monkeypatch,
        )
        == 0
    )
    (j,) = out.glob("lut_*_fp32.json")
    from srkit.profiler import lut

    t = lut.load(j, device="cpu")
    assert len(t.entries) == 4  # a stem per upsampler, a block per spec
    assert {e["upsampler"] for e in t.entries.values() if e["kind"] == "stem"} == {"direct", "nearest"}
    v = json.loads(next(out.glob("*_validation.json")).read_text())
    assert len(v["rows"]) == 2 and v["max_abs_relative_error"] >= v["mean_abs_relative_error"] >= 0
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["lut", "--blocks", "{type: wdsr_c}"])


def test_every_registered_op_is_benchmarked_by_its_own_name() -> None:
    for op in dispatch.registered_ops():
        chosen = cases.resolve([op])
        assert chosen and all(c in cases.OPS for c in chosen), op
        cli.parser().parse_args(["ops", "--only", op])  # accepted by srkit-bench ops --only
    with pytest.raises(ValueError, match="unknown op"):
        cases.resolve(["nope"])


def test_the_default_tour_times_the_ops_quick_then_imdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fast_peaks(monkeypatch)
    every = cases.cases
    monkeypatch.setattr(cases, "cases", lambda dev, quick, only: every(dev, quick, ["pixel_shuffle"]))
    monkeypatch.setitem(modelbench.RESOLUTIONS, "360p", (24, 40))
    out = tmp_path / "t"
    assert _run(["--reps", "2", "--max-seconds", "0.2", "--out", str(out)], tmp_path, monkeypatch) == 0
    (j,) = out.glob("bench_*.json")
    rec = json.loads(j.read_text())
    assert {r["op"] for r in rec["ops"]} == {"pixel_shuffle"}
    assert not any("compile" in r["impl"] for r in rec["ops"])  # the quick ops on the CPU: no torch.compile rows
    assert {(r["model"], r["variant"], tuple(r["out_hw"])) for r in rec["models"]} == {
        ("imdn", "eager", (24, 40)),
        ("imdn", "srkit", (24, 40)),
    }
    assert any(r["level"] == "total" for r in rec["layers"])


def test_model_runs_are_typed_once_from_the_command_line() -> None:
    run = cli.ModelsRun.from_args(cli.parser().parse_args(["model", "--all", "--no-graphs", "--input", "24x40"]))
    assert run.names == tuple(list_models()) and run.inputs == ((24, 40),) and not run.graphs and run.breakdown
    with pytest.raises(cli.UsageError, match="name a model"):
        cli.ModelsRun.from_args(cli.parser().parse_args(["model"]))
    ops = cli.OpsRun.from_args(cli.parser().parse_args(["ops", "--only", "cca", "--quick"]))
    assert ops == cli.OpsRun("cpu" if not torch.cuda.is_available() else "cuda", quick=True, only=("cca",))


def test_an_ops_rows_speedup_is_taken_within_each_interleaved_round() -> None:
    case = _shuffle_case()
    rows = opbench.run_case(case, "cpu", ["torch-eager", "srkit-cpp"], PEAKS, reps=6, warmup=1)
    eager, cpp = rows
    assert eager["rounds"] == cpp["rounds"] == len(eager["round_ms"]) == len(cpp["round_ms"]) >= 3
    ratios = sorted(e / c for e, c in zip(eager["round_ms"], cpp["round_ms"], strict=True))
    assert cpp["speedup_vs_eager"] == pytest.approx(statistics.median(ratios))
    assert (cpp["speedup_vs_eager_min"], cpp["speedup_vs_eager_max"]) == pytest.approx((ratios[0], ratios[-1]))
    assert eager["speedup_vs_eager"] == pytest.approx(1.0) and "load_1min_before" in cpp


@pytest.mark.parametrize(
    ("one_ms", "reps", "max_seconds", "planned"),
    [
        (1.0, 20, 5.0, (5, 4)),
        (1000.0, 20, 5.0, (5, 1)),
        (1.0, 2, 5.0, (3, 1)),
        (100.0, 20, 1.0, (5, 2)),
        (9e3, 20, 5.0, (3, 1)),
    ],
)
def test_an_ops_case_is_timed_in_rounds_within_its_time_limit(
    one_ms: float, reps: int, max_seconds: float, planned: tuple[int, int]
) -> None:
    assert opbench.plan(one_ms, reps, max_seconds) == planned


def test_a_slow_first_call_does_not_cut_the_rounds() -> None:
    """A compile's seconds-long first call says nothing of the calls after it: the plan reads a warm call."""
    from srkit.profiler import modelbench

    class Fake:
        def __init__(self, first_s: float, call_s: float) -> None:
            self.first_call_s, self.x, self.call_s = first_s, torch.zeros(1), call_s

        def __call__(self) -> None:
            time.sleep(self.call_s)

    fast_after_compile = {0: Fake(10.0, 0.001), 1: Fake(0.001, 0.001)}
    assert modelbench._plan(fast_after_compile, reps=10, rounds=10, max_seconds=1.0) == (10, 1)
    slow = {0: Fake(0.0, 0.05)}  # 10 calls of 50 ms would take 0.5 s, past the 0.15 s limit: 3 rounds of one
    assert modelbench._plan(slow, reps=10, rounds=10, max_seconds=0.15) == (3, 1)


def test_a_head_to_head_pair_reads_a_variant_twice_as_slow_at_half_the_speed() -> None:
    from srkit.profiler import modelbench

    class Fake:
        def __init__(self, call_s: float) -> None:
            self.x, self.call_s = torch.zeros(1), call_s

        def __call__(self) -> None:
            t = time.perf_counter()
            while time.perf_counter() - t < self.call_s:  # busy, as a runtime's call is
                pass

    rows = [{"variant": "ort", "channels_last": False}, {"variant": "default", "channels_last": False}]
    runners = {0: Fake(0.002), 1: Fake(0.001)}
    modelbench.head_to_head(rows, runners, 0, 1, reps=20, rounds=10, max_seconds=0.5)  # type: ignore[arg-type]
    pair = rows[1]["head_to_head"]["ort"]
    assert pair["rounds"] == 10 and len(pair["round_ms"]["ort"]) == len(pair["round_ms"]["self"]) == 10
    assert 1.6 <= pair["median"] <= 2.4 and pair["min"] <= pair["median"] <= pair["max"]
    assert "head_to_head" not in rows[0]
