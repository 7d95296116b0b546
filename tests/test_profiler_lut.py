"""The latency table: built, predicted from, validated, and refused when it was measured elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from srkit.models.catalog import BlockSpec
from srkit.profiler import device, lut

GRID = lut.Grid(
    widths=(16,),
    sizes=((16, 16),),
    scales=(2,),
    specs=(BlockSpec("wdsr_b", expansion=2), BlockSpec("imdb", attention="cca")),
    upsamplers=("direct", "nearest"),
)


@pytest.fixture(scope="module")
def table() -> lut.LatencyTable:
    return lut.build("cpu", GRID, reps=3, max_seconds=0.5)


def test_table_covers_the_grid_and_predicts_stem_plus_blocks(table: lut.LatencyTable) -> None:
    assert len(table.entries) == 4
    assert {e["kind"] for e in table.entries.values()} == {"stem", "block"}
    assert all(e["median_ms"] > 0 and e["p10_ms"] <= e["median_ms"] <= e["p90_ms"] for e in table.entries.values())
    assert {e["backend_ran"] for e in table.entries.values()} >= {"cpp"}  # imdb's CCA runs the C++ ops
    blocks = [
        {"type": "wdsr_b", "expansion": 2},
        {"type": "imdb", "attention": "cca"},
        {"type": "wdsr_b", "expansion": 2},
    ]
    stem = table.entries["stem|scale=2|c=16|16x16"]["median_ms"]
    b = table.entries[f"block|{BlockSpec('wdsr_b', expansion=2).key()}|c=16|16x16"]["median_ms"]
    i = table.entries[f"block|{BlockSpec('imdb', attention='cca').key()}|c=16|16x16"]["median_ms"]
    assert table.predict(16, 2, blocks, (16, 16)) == pytest.approx(stem + 2 * b + i)
    nearest = table.entries["stem|scale=2,up=nearest|c=16|16x16"]
    assert nearest["upsampler"] == "nearest" and nearest["median_ms"] > 0
    assert table.predict(16, 2, blocks, (16, 16), "nearest") == pytest.approx(nearest["median_ms"] + 2 * b + i)
    with pytest.raises(lut.TableMismatch, match="up=progressive"):
        table.predict(16, 2, blocks, (16, 16), "progressive")


def test_a_query_outside_the_table_is_named(table: lut.LatencyTable) -> None:
    with pytest.raises(lut.TableMismatch, match="c=32"):
        table.predict(32, 2, [{"type": "wdsr_b", "expansion": 2}], (16, 16))
    with pytest.raises(lut.TableMismatch, match="rfdb"):
        table.predict(16, 2, [{"type": "rfdb"}], (16, 16))


def test_validation_compares_with_whole_models(table: lut.LatencyTable) -> None:
    archs = lut.sample_archs(GRID, 2, depth=(1, 2), seed=1)
    rows = lut.validate(table, "cpu", archs, reps=2, rounds=3)
    assert len(rows) == 2
    for r in rows:
        assert r["measured_ms"] > 0 and r["parts_ms"] > 0 and r["rounds"] == 3
        assert r["relative_error"] == pytest.approx((r["predicted_ms"] - r["measured_ms"]) / r["measured_ms"])
        assert r["additivity_error_min"] <= r["additivity_error"] <= r["additivity_error_max"]
        assert r["additivity_error"] > -1 and "load_1min_before" in r["noise"]


def test_the_parts_are_summed_round_by_round_with_each_block_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rounds with a slow spell on the second: the parts' sum tracks the whole in each round."""
    from srkit.profiler import timing

    specs = [BlockSpec("wdsr_b", expansion=2)] * 2 + [BlockSpec("imdb", attention="cca")]
    b, i = specs[0].key(), specs[2].key()
    rounds_ms = {"whole": [10.0, 20.0], "stem": [2.0, 4.0], b: [3.0, 6.0], i: [1.0, 2.0]}  # parts: 9 then 18

    def fake(fns, device, *, rounds=5, reps=5, baseline=None):  # noqa: ANN001, ANN202
        assert set(fns) == set(rounds_ms)
        ts = {k: timing.Timing.from_samples(v, 0) for k, v in rounds_ms.items()}
        return timing.Interleaved(ts, rounds_ms, {}, {"load_1min_before": None})

    monkeypatch.setattr(lut, "interleaved", fake)
    table = lut.LatencyTable({}, "fp32", 1, False)
    table.entries = {
        lut._key("stem", 16, (16, 16), scale=2): {"median_ms": 2.0},
        lut._key("block", 16, (16, 16), spec=specs[0]): {"median_ms": 3.0},
        lut._key("block", 16, (16, 16), spec=specs[2]): {"median_ms": 1.0},
    }
    (r,) = lut.validate(table, "cpu", [(16, 2, specs, (16, 16), "direct")], reps=1, rounds=2)
    assert r["additivity_error"] == pytest.approx(-0.1) and r["additivity_error_min"] == pytest.approx(-0.1)
    assert r["parts_ms"] == pytest.approx(13.5) and r["predicted_ms"] == pytest.approx(9.0)
    assert r["relative_error"] == pytest.approx((9.0 - 15.0) / 15.0)  # against the whole's median over rounds


def test_round_trip_on_this_device(table: lut.LatencyTable, tmp_path: Path) -> None:
    p = table.save(tmp_path / "t.json")
    back = lut.load(p, device="cpu")
    assert back.entries == json.loads(json.dumps(table.entries))
    assert back.dtype == "fp32" and back.batch == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("device", "NVIDIA H100 80GB HBM3", "device"),
        ("device_type", "cuda", "device_type"),
        ("srkit", "0.0.1", "srkit"),
        ("torch", "1.0.0", "torch"),
        ("cpu_isa", "AVX2", "cpu_isa"),  # one CPU name, another CPU under it
        ("cpu_model", "AuthenticAMD 25/1/1", "cpu_model"),
    ],
)
def test_a_table_from_elsewhere_is_refused(
    table: lut.LatencyTable, tmp_path: Path, field: str, value: str, message: str
) -> None:
    data = table.as_dict()
    data["fingerprint"][field] = value
    p = tmp_path / "foreign.json"
    p.write_text(json.dumps(data))
    with pytest.raises(lut.TableMismatch, match=f"another device or software.*{message}: table '{value}'"):
        lut.load(p, device="cpu")
    assert lut.load(p).fingerprint[field] == value  # reading it for inspection, without a device, is allowed


def test_unreadable_tables_are_named(tmp_path: Path) -> None:
    with pytest.raises(lut.TableMismatch, match="no such latency table"):
        lut.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "srkit-latency-table", "vers')
    with pytest.raises(lut.TableMismatch, match="not a readable latency table"):
        lut.load(bad)
    other = tmp_path / "other.json"
    other.write_text('{"rows": []}')
    with pytest.raises(lut.TableMismatch, match="not an srkit latency table"):
        lut.load(other)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "srkit-latency-table", "version": 0}))
    with pytest.raises(lut.TableMismatch, match="version 0"):
        lut.load(old)


def test_peaks_are_measured_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRKIT_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(device, "measure_bandwidth", lambda dev, mib: calls.append("bw") or 10.0)
    monkeypatch.setattr(device, "measure_matmul", lambda dev, dt, n: calls.append("mm") or 0.5)
    a = device.peaks("cpu")
    b = device.peaks("cpu")
    assert calls == ["bw", "mm"]
    assert a == b and a.bandwidth_GBps == 10.0 and a.matmul_TFLOPs == {"fp32": 0.5}
    device.peaks("cpu", remeasure=True)
    assert calls == ["bw", "mm"] * 2
    cached = next((tmp_path / "peaks").glob("*.json"))
    data = json.loads(cached.read_text())
    data["identity"]["torch"] = "0.1"  # another torch: the cache does not apply
    cached.write_text(json.dumps(data))
    device.peaks("cpu")
    assert len(calls) == 6


def test_roofline_floor() -> None:
    p = device.Peaks(100.0, {"fp32": 2.0, "bf16": 8.0})
    assert p.floor_ms(0, 1e9, torch.float32) == pytest.approx(10.0)  # 1 GB at 100 GB/s
    assert p.floor_ms(4e10, 1e6, torch.float32) == pytest.approx(20.0)  # 40 GFLOP at 2 TFLOP/s
    assert p.floor_ms(4e10, 1e6, torch.bfloat16) == pytest.approx(5.0)
    assert p.floor_ms(4e10, 1e6, torch.float16) == pytest.approx(20.0)  # no fp16 peak measured: the fp32 one


def test_fingerprint_and_identity() -> None:
    fp = device.fingerprint("cpu")
    assert fp["device_type"] == "cpu" and fp["torch"] == torch.__version__
    assert set(device.identity(fp)) == set(device.IDENTITY_KEYS)
    assert device.slug(fp).startswith("cpu_")


def test_a_cpu_is_told_apart_from_another_under_its_name() -> None:
    fp = device.fingerprint("cpu")
    assert fp["cpu_isa"].startswith(torch.backends.cpu.get_cpu_capability()) and fp["cpu_model"]
    other = fp | {"cpu_isa": "AVX2" if fp["cpu_isa"] != "AVX2" else "AVX512+bf16"}
    assert device.slug(other) != device.slug(fp)  # a record of each keeps its own file
    assert device.timing_mismatch(other, fp) == [f"cpu_isa: {other['cpu_isa']!r} there, {fp['cpu_isa']!r} here"]
    older = {k: v for k, v in fp.items() if k not in device.CPU_KEYS}  # a record from before the keys
    assert device.timing_mismatch(older, fp) == []
