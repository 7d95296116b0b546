"""The default runtime (srkit.runtime): the fastest candidate on this device, measured once and
remembered by the weights' hash; ONNX exports cached by that hash; forced runtimes and their refusals."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from srkit import runtime as rt
from srkit.cli.main import main
from srkit.data import read_image, write_image
from srkit.inference import Upscaler
from srkit.models import create_model, save


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRKIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("espcn", scale=2).eval()


def _slow(monkeypatch: pytest.MonkeyPatch, delays: dict[str, float]) -> list[str]:
    """Candidates that sleep the given seconds per call (the fastest is known); returns the log of builds."""
    built: list[str] = []

    def fake(model, name, x, device, dtype, key=None):  # noqa: ANN001, ANN202
        built.append(name)
        return lambda: time.sleep(delays[name])

    monkeypatch.setattr(rt, "_forward", fake)
    monkeypatch.setattr(rt, "candidates", lambda device, dtype=torch.float32: tuple(delays))
    return built


def test_auto_takes_the_fastest_and_remembers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    built = _slow(monkeypatch, {"torch": 0.004, "channels_last": 0.002})
    net = _net()
    c = rt.choose(net, "cpu", images=1000)
    assert c.runtime == "channels_last" and c.speedups["channels_last"] > 1.5 and c.reason.startswith("auto: ")
    again = rt.choose(net, "cpu", images=1000)
    assert again.runtime == "channels_last" and "measured earlier" in again.reason and len(built) == 2
    rt.choose(_net(seed=1), "cpu", images=1000)  # other weights: measured again
    assert len(built) == 4


def test_work_too_short_to_pay_for_timing_is_not_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    built = _slow(monkeypatch, {"torch": 0.001, "channels_last": 0.003})
    net = _net()
    c = rt.choose(net, "cpu", images=rt.MEASURE_CALLS - 1)
    assert c.runtime == "channels_last" and "not measured" in c.reason and not built
    assert rt.unmeasured(torch.device("cuda"), 1).runtime == "torch"  # srkit's kernels on a GPU
    assert rt.choose(net, "cpu", images=1000).runtime == "torch" and len(built) == 2  # longer work measures
    hashed: list[int] = []
    monkeypatch.setattr(rt, "weights_key", lambda model: hashed.append(1) or "k")
    up, short = rt.upscaler(net, "auto", images=1)  # short work neither looks it up nor hashes the weights
    assert short.runtime == "channels_last" and up.channels_last and not hashed and len(built) == 2
    rt.upscaler(net, "auto", images=rt.MEASURE_CALLS)
    assert hashed == [1]


def test_later_work_that_affords_more_rounds_measures_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from srkit.profiler import timing

    _slow(monkeypatch, {"torch": 0.001, "channels_last": 0.002})
    plans: list[tuple[int, int]] = []
    original = timing.interleaved

    def spy(fns, device, **kw):  # noqa: ANN001, ANN003, ANN202
        plans.append((kw["rounds"], kw["reps"]))
        return original(fns, device, **kw)

    monkeypatch.setattr(timing, "interleaved", spy)
    net = _net()
    rt.choose(net, "cpu", images=100)  # a tenth of 100 calls, shared by two runtimes: 5 rounds of 1
    rt.choose(net, "cpu", images=100)
    rt.choose(net, "cpu", images=10_000)  # affords 5 rounds of 3: measured again
    rt.choose(net, "cpu", images=200)
    assert plans == [(5, 1), (5, 3)]


@pytest.mark.parametrize(("images", "tried"), [(999, False), (1000, True)])
def test_onnx_runtime_is_tried_only_for_work_that_pays_for_its_export(
    monkeypatch: pytest.MonkeyPatch, images: int, tried: bool
) -> None:
    monkeypatch.setattr(rt, "candidates", lambda device, dtype=torch.float32: ("torch", "channels_last", "ort"))
    asked: list[tuple[str, ...]] = []

    def measure(model, device, dtype, key=None, hw=(64, 64), names=(), images=1):  # noqa: ANN001, ANN202
        asked.append(names)
        speed = {"torch": 1.0, "channels_last": 1.0, "ort": 2.0}
        return {"speedups": {n: speed[n] for n in ("torch", *names)}, "torch_ms": 10.0, "lr": list(hw)}

    monkeypatch.setattr(rt, "measure_choice", measure)
    c = rt.choose(_net(), "cpu", images=images)  # 10 ms an image: 9.99 s of work, then 10 s
    assert asked[0] == ("torch", "channels_last") and (len(asked) == 2) == tried
    assert c.runtime == ("ort" if tried else "torch") and ("ort" in c.speedups) == tried


def test_the_onnx_export_is_made_once_per_weights(cache: Path) -> None:
    net = _net()
    a = rt.onnx_model(net)
    files = list((cache / "onnx").iterdir())
    stamp = files[0].stat().st_mtime_ns
    rt.onnx_model(net)
    assert list((cache / "onnx").iterdir()) == files and files[0].stat().st_mtime_ns == stamp
    with torch.no_grad():
        next(net.parameters()).add_(0.1)  # a changed weight is another export, never the stale one
    b = rt.onnx_model(net)
    assert len(list((cache / "onnx").iterdir())) == 2
    x = torch.rand(1, net.in_channels, 13, 17)
    with torch.inference_mode():
        assert (b(x) - net(x)).abs().max() < 1e-5 and (a(x) - net(x)).abs().max() > 1e-3


@pytest.mark.parametrize("runtime", ["torch", "channels_last", "ort", "compile"])
def test_every_runtime_gives_the_same_image(runtime: str) -> None:
    net = _net()
    lr = torch.randint(0, 256, (3, 11, 14), dtype=torch.uint8)
    ref = Upscaler(net)(lr)
    up, choice = rt.upscaler(net, runtime)
    assert choice.runtime == runtime and (up(lr).int() - ref.int()).abs().max() <= 1


def test_the_commands_say_the_runtime_and_refuse_contradictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _slow(monkeypatch, {"torch": 0.003, "channels_last": 0.001})
    save(_net(), tmp_path / "espcn.safetensors")
    write_image(tmp_path / "a.png", torch.randint(0, 256, (3, 9, 8), dtype=torch.uint8))
    argv = [
        "upscale",
        str(tmp_path / "a.png"),
        "-o",
        str(tmp_path / "out"),
        "--model",
        str(tmp_path / "espcn.safetensors"),
    ]
    assert main([*argv, "--runtime", "auto"]) == 0  # one image: too little work to time the runtimes for
    assert "runtime: channels_last (auto, not measured" in capsys.readouterr().err
    assert read_image(tmp_path / "out" / "a_x2.png").shape == (3, 18, 16)
    for bad, says in (
        (["--runtime", "torch", "--compile"], "contradicts --compile"),
        (["--runtime", "ort", "--dtype", "bf16"], "CPU in float32"),
    ):
        assert main([*argv, "--overwrite", *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert says in err[-1], err


def test_upscaler_load_names_its_runtime(tmp_path: Path) -> None:
    save(_net(), tmp_path / "espcn.safetensors")
    up = Upscaler.load(tmp_path / "espcn.safetensors", runtime="channels_last")
    assert up.choice.runtime == "channels_last" and up.channels_last
    assert up(torch.zeros(3, 5, 5, dtype=torch.uint8)).shape == (3, 10, 10)


def test_a_dynamic_export_runs_each_size_on_a_session_fixed_to_it() -> None:
    net = _net()
    m = rt.onnx_model(net)
    assert m._side_names == ("h", "w")
    for hw in ((13, 17), (13, 17), (20, 9)):
        x = torch.rand(1, net.in_channels, *hw)
        y = m(x)
        whole = torch.from_numpy(m.session.run(None, {m.input_name: x.numpy()})[0])  # the dynamic session
        assert torch.allclose(y, whole, atol=1e-6)
    assert list(m._by_size) == [(13, 17), (20, 9)]


def test_the_weights_key_covers_every_tensor_scalar_buffers_included() -> None:
    torch.manual_seed(0)
    net = create_model("srresnet", scale=4)  # a 0-dim buffer (BatchNorm's step count) among its tensors
    key = rt.weights_key(net)
    assert key == rt.weights_key(net) and len(key) == 16
    with torch.no_grad():
        next(net.parameters()).add_(1e-3)
    assert rt.weights_key(net) != key


def test_a_search_times_a_network_on_the_runtime_srkit_ships_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from srkit.search import latency

    sleeps = {"torch": 0.004, "channels_last": 0.002, "ort": 0.003}  # seconds a call
    asked: list[str] = []

    def call(model, x, runtime):  # noqa: ANN001, ANN202
        asked.append(runtime)
        return (lambda: time.sleep(sleeps[runtime])), runtime

    def fake(model, x, runtime, **kw):  # noqa: ANN001, ANN003, ANN202
        return {"median_ms": sleeps[runtime] * 1e3}, runtime

    monkeypatch.setattr(latency, "runtime_call", call)
    monkeypatch.setattr(latency, "time_runtime", fake)
    monkeypatch.setattr(rt, "candidates", lambda device, dtype=torch.float32: tuple(sleeps))
    monkeypatch.setattr(latency, "colour_ms", lambda lr_hw, scale, device, reps=10: 5.0)
    rgb = create_model("imdn", scale=2, channels=16, blocks=1)
    got = latency.time_stats(rgb, (8, 8), "cpu", reps=3, runtime="auto")
    # the candidates timed together, the fastest shipped and named
    assert got["runtime"] == "channels_last" and 2.0 <= got["median_ms"] < 2.9 and sorted(asked) == sorted(sleeps)
    assert got["reps"] == 3  # three rounds of one call each
    assert latency.time_stats(rgb, (8, 8), "cpu", runtime="ort") == {"median_ms": 3.0, "runtime": "ort"}
    # a Y network (ESPCN) is timed like for like: its colour work on an RGB image added
    assert latency.time_stats(_net(), (8, 8), "cpu", runtime="ort") == {
        "median_ms": 8.0,
        "runtime": "ort",
        "colour_ms": 5.0,
    }


def test_the_colour_work_around_a_y_network_is_timed_as_the_upscaler_does_it() -> None:
    from srkit.search.latency import colour_ms, time_stats

    small, large = colour_ms((16, 16), 2, "cpu", reps=3), colour_ms((96, 96), 4, "cpu", reps=3)
    assert 0 < small < large  # it grows with the image
    got = time_stats(_net(), (16, 16), "cpu", reps=3, runtime="torch")
    assert got["colour_ms"] > 0 and got["median_ms"] > got["colour_ms"]


def test_auto_search_latency_is_the_fastest_real_runtime() -> None:
    from srkit.search.latency import time_stats

    net = _net()
    got = time_stats(net, (16, 16), "cpu", reps=3, runtime="auto")
    assert got["runtime"] in rt.candidates(torch.device("cpu")) and got["median_ms"] > 0
    assert all(p.is_contiguous() for p in net.parameters())  # the channels_last candidate timed a copy


@pytest.mark.parametrize(("commands", "search"), [("auto", "auto"), ("ort", "ort"), ("compile", "auto")])
def test_the_searchs_default_runtime_follows_the_commands(
    commands: str, search: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from srkit.search import latency, spos

    monkeypatch.setattr(rt, "DEFAULT", commands)
    assert latency.default_runtime() == search == spos.SearchConfig().latency_runtime


@pytest.mark.parametrize(
    ("size", "probe"),
    [(None, (96, 96)), ((32, 32), (32, 32)), ((270, 480), (256, 512)), ((5, 2000), (16, 512)), ((45, 90), (32, 64))],
)
def test_the_choice_is_measured_near_the_size_of_the_work(size: tuple[int, int] | None, probe: tuple) -> None:
    assert rt.probe_size(size) == probe


def test_each_size_of_work_has_its_own_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    built = _slow(monkeypatch, {"torch": 0.002, "channels_last": 0.004})
    sizes: list[tuple[int, ...]] = []

    def spy(model, device, dtype, key=None, hw=(rt.PROBE, rt.PROBE), names=(), images=1):  # noqa: ANN001, ANN202
        sizes.append(hw)
        return {"speedups": {"torch": 1.0, "channels_last": 0.5}, "torch_ms": 1.0, "lr": list(hw)}

    monkeypatch.setattr(rt, "measure_choice", spy)
    net = _net()
    assert "LR 32x32" in rt.choose(net, "cpu", size=(30, 34), images=1000).reason
    rt.choose(net, "cpu", size=(31, 33), images=1000)  # the same bucket: remembered
    rt.choose(net, "cpu", images=1000)  # size unknown: the probe's own
    assert sizes == [(32, 32), (96, 96)] and not built
    rt.upscaler(net, "auto", tile=64, images=1000)
    assert sizes[-1] == (64, 64)  # a tiled run is chosen at its tile's size


MEASURED = {"speedups": {"torch": 1.0, "channels_last": 1.5, "compile": 2.0}, "torch_ms": 10.0, "lr": [64, 64]}


@pytest.mark.parametrize(("images", "runtime"), [(1, "channels_last"), (1000, "channels_last"), (100_000, "compile")])
def test_compile_is_taken_only_where_the_work_pays_for_its_compile(images: int, runtime: str) -> None:
    # per image: channels_last 6.7 ms, compile 5 ms after a 30 s compile: even at 18,000 images
    c = rt.pick(MEASURED | {"compile_s": 30.0}, images, ("torch", "channels_last", "compile"))
    assert c.runtime == runtime and (f"weighed against {images} image(s)" in c.reason) == (runtime == "compile")
    assert rt.pick(MEASURED | {"compile_s": 30.0}, images, ("torch", "compile")).runtime in ("torch", "compile")


def test_compile_is_measured_only_for_long_work_and_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "candidates", lambda device, dtype=torch.float32: ("torch", "channels_last"))
    measured: list[bool] = []

    def measure(model, device, dtype, key=None, hw=(64, 64), names=(), images=1):  # noqa: ANN001, ANN202
        with_compile = "compile" in names
        measured.append(with_compile)
        speed = {"torch": 1.0, "channels_last": 1.5} | ({"compile": 2.0} if with_compile else {})
        return {"speedups": speed, "torch_ms": 10.0, "lr": list(hw)} | ({"compile_s": 30.0} if with_compile else {})

    monkeypatch.setattr(rt, "measure_choice", measure)
    net = _net()
    short = rt.choose(net, "cpu", images=10_000)  # 67 s of work: under COMPILE_WORK_S, compile never tried
    assert short.runtime == "channels_last" and measured == [False] and "compile" not in short.speedups
    long = rt.choose(net, "cpu", images=100_000)  # every candidate timed again beside compile
    assert long.runtime == "compile" and measured == [False, True] and "first call took 30.0 s" in long.reason
    again = rt.choose(net, "cpu", images=1000)  # remembered: weighed, not compiled again
    assert again.runtime == "channels_last" and "compile" in again.speedups and measured == [False, True]


def test_compile_is_timed_beside_the_other_candidates_with_its_first_call() -> None:
    names = (*rt.candidates(torch.device("cpu")), "compile")
    m = rt.measure_choice(_net(), torch.device("cpu"), torch.float32, None, (16, 16), names)
    assert m["compile_s"] > 0 and set(m["speedups"]) == {*rt.candidates(torch.device("cpu")), "compile"}
    assert m["speedups"]["torch"] == 1.0 and m["torch_ms"] > 0


def test_upscale_chooses_for_its_images_size_and_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple] = []

    def spy(model, device, dtype=torch.float32, key=None, size=None, images=1):  # noqa: ANN001, ANN202
        asked.append((size, images))
        return rt.Choice("torch", "auto: spied", {"torch": 1.0})

    monkeypatch.setattr(rt, "choose", spy)
    save(_net(), tmp_path / "net.safetensors")
    for i in range(3):
        write_image(tmp_path / f"in{i}.png", torch.randint(0, 256, (3, 40, 70), dtype=torch.uint8))
    args = ["upscale", *(str(tmp_path / f"in{i}.png") for i in range(3)), "-o", str(tmp_path / "out")]
    assert main([*args, "--model", str(tmp_path / "net.safetensors"), "--runtime", "auto"]) == 0
    assert asked == [((40, 70), 3)]  # the first image's size, every image


def test_the_work_of_a_dataset_and_a_video_is_read_from_their_headers(tmp_path: Path) -> None:
    from srkit.evaluate import work_of
    from srkit.video import work_of as video_work

    (tmp_path / "set" / "HR").mkdir(parents=True)
    for name in ("a", "b"):
        write_image(tmp_path / "set" / "HR" / f"{name}.png", torch.zeros(3, 20, 30, dtype=torch.uint8))
    assert work_of(str(tmp_path / "set"), 2) == ((10, 15), 2)
    assert work_of(str(tmp_path / "nothing"), 2) == (None, 1)  # evaluating it says why
    (tmp_path / "clip.mp4").write_bytes(b"not a video")
    assert video_work(tmp_path / "clip.mp4") == (None, 1)  # the upscale says what is wrong with it


def test_a_near_tie_is_measured_again_by_later_work_until_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "candidates", lambda device, dtype=torch.float32: ("torch", "channels_last"))
    readings = iter([1.05, 0.90, 1.08, 1.5])  # channels_last's speed-up over torch, one per measurement

    def measure(model, device, dtype, key=None, hw=(64, 64), names=(), images=1):  # noqa: ANN001, ANN202
        speed = {"torch": 1.0, "channels_last": next(readings)}
        return {"speedups": speed, "torch_ms": 10.0, "lr": list(hw), "calls": 15}

    monkeypatch.setattr(rt, "measure_choice", measure)
    net = _net()
    assert rt.choose(net, "cpu", images=1000).runtime == "channels_last"  # 5% apart: a near tie
    second = rt.choose(net, "cpu", images=1000)  # measured again: the median of 1.05 and 0.90 is 0.975
    assert second.runtime == "torch" and "the median of 2 measurements" in second.reason
    third = rt.choose(net, "cpu", images=1000)  # the median of 1.05, 0.90 and 1.08
    assert third.runtime == "channels_last" and third.speedups["channels_last"] == 1.05
    settled = rt.choose(net, "cpu", images=1000)
    assert settled.runtime == "channels_last" and "measured earlier" in settled.reason
    assert next(readings) == 1.5  # settled after three: not measured a fourth time


def test_a_clear_choice_is_not_measured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    built = _slow(monkeypatch, {"torch": 0.004, "channels_last": 0.002})
    net = _net()
    for _ in range(3):
        assert rt.choose(net, "cpu", images=1000).runtime == "channels_last"
    assert len(built) == 2


def test_the_costly_runtimes_a_long_job_affords_are_timed_in_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "candidates", lambda device, dtype=torch.float32: ("torch", "channels_last", "ort"))
    asked: list[tuple[str, ...]] = []

    def measure(model, device, dtype, key=None, hw=(64, 64), names=(), images=1):  # noqa: ANN001, ANN202
        asked.append(tuple(names))
        speed = {"torch": 1.0, "channels_last": 1.2, "ort": 1.5, "compile": 1.4}
        m = {"speedups": {n: speed[n] for n in ("torch", *names)}, "torch_ms": 10.0, "lr": list(hw)}
        return m | ({"compile_s": 5.0} if "compile" in names else {})

    monkeypatch.setattr(rt, "measure_choice", measure)
    c = rt.choose(_net(), "cpu", images=100_000)  # 833 s on channels_last: ONNX Runtime and compile both tried
    assert asked == [("torch", "channels_last"), ("torch", "channels_last", "ort", "compile")]
    assert c.runtime == "ort"
