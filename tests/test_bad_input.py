"""Bad input, as a user gives it: every error is one line with a non-zero exit, never a traceback, and
every file that existed before is unchanged.

The sweep reads the options from the commands' own argparse parsers (srkit, srkit-bench and every
srkit-search command), so a new option is swept without editing this file."""

from __future__ import annotations

import argparse
import math
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import srkit.cli.bench as bench_cli
import srkit.cli.main as srkit_cli
import srkit.cli.search as search_cli

NUMBERS = ("nan", "inf", "-inf", "1e999", "abc", "")
COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "srkit": srkit_cli.main,
    "srkit-bench": bench_cli.main,
    "srkit-search": search_cli.main,
}


class _Caught(BaseException):  # past run_cli, which sorts every Exception
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _parser_of(main: Callable[[list[str]], int], argv: list[str], monkeypatch: pytest.MonkeyPatch):
    """The parser ``main(argv)`` builds, caught at its parse_args before anything runs."""

    def catch(self: argparse.ArgumentParser, *a: object, **k: object) -> None:
        raise _Caught(self)

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_args", catch)
        m.setattr(argparse.ArgumentParser, "parse_known_args", catch)
        try:
            main(argv)
        except _Caught as c:
            return c.parser
    raise AssertionError(f"{argv}: no parser was built")


def _all_parsers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    roots = [("srkit", _parser_of(srkit_cli.main, [], monkeypatch))]
    roots.append(("srkit-bench", _parser_of(bench_cli.main, [], monkeypatch)))
    roots.append(("srkit-search", _parser_of(search_cli.main, ["spos"], monkeypatch)))
    seen = set()
    while roots:
        name, p = roots.pop()
        if id(p) in seen:
            continue
        seen.add(id(p))
        yield name, p
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                roots += [(f"{name} {sub}", sp) for sub, sp in action.choices.items()]


def _accepts(action: argparse.Action, text: str) -> bool:
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError, TypeError):
        return False
    return action.choices is None or value in action.choices


def test_every_numeric_option_refuses_what_no_run_can_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    """No option takes NaN, an infinity or a word where it wants a number, and no plain ``int`` or
    ``float`` option is left unbounded (srkit.cli.args' count/number bound them, in argparse's line)."""
    found, loose = 0, []
    for name, p in _all_parsers(monkeypatch):
        for action in p._actions:
            if not action.option_strings or action.nargs == 0 or action.type is None:
                continue
            if action.type in (int, float) and action.choices is None:
                loose.append(f"{name} {action.option_strings[-1]}: plain {action.type.__name__}")
            probe = _accepts(action, "1") or _accepts(action, "4") or _accepts(action, "0.5")
            if not probe:
                continue  # not a number option (a size, a device, a file)
            found += 1
            taken = [v for v in NUMBERS if _accepts(action, v)]
            assert not taken, f"{name} {action.option_strings[-1]} takes {taken}"
    assert found >= 40, found  # the sweep saw the commands' number options
    assert not loose, loose


def _hr_folder(root: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    rng = np.random.default_rng(0)
    (root / "HR").mkdir(parents=True)
    for name, shape in shapes.items():
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(root / "HR" / f"{name}.png")
    return root


def _bomb(path: Path) -> Path:
    """A valid 1x1 PNG whose header declares 60000 x 60000 pixels."""
    Image.new("L", (1, 1)).save(path)
    raw = bytearray(path.read_bytes())
    ihdr = raw.index(b"IHDR")
    raw[ihdr + 4 : ihdr + 12] = struct.pack(">II", 60000, 60000)
    raw[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(raw[ihdr : ihdr + 17])))
    path.write_bytes(bytes(raw))
    return path


def _cases(tmp: Path) -> list[tuple[str, list[str], str]]:
    """(what, srkit argv, what the one line must say) for the situations a user meets."""
    tiny = _hr_folder(tmp / "tiny", {"a": (3, 3, 3)})
    small = _hr_folder(tmp / "small", {"a": (20, 20, 3)})
    pair = _hr_folder(tmp / "pair", {"a": (64, 64, 3)})
    (pair / "LR_bicubic" / "X4").mkdir(parents=True)
    Image.new("L", (16, 16)).save(pair / "LR_bicubic" / "X4" / "ax4.png")
    orphan = _hr_folder(tmp / "orphan", {"a": (64, 64, 3)})
    (orphan / "LR_bicubic" / "X4").mkdir(parents=True)
    for n in ("ax4", "zx4"):
        Image.new("RGB", (16, 16)).save(orphan / "LR_bicubic" / "X4" / f"{n}.png")
    bomb = _bomb(tmp / "bomb.png")
    (tmp / "bad.yaml").write_text("model: [espcn\n")
    (tmp / "list.yaml").write_text("- espcn\n")
    out = str(tmp / "out")
    return [
        (
            "HR smaller than the scale",
            ["eval", "--model", "bicubic", "--data", str(tiny), "--scale", "4"],
            "smaller than the scale",
        ),
        (
            "training images smaller than the patch",
            ["train", "--model", "espcn", "--data", str(small), "--iters", "1", "--out", out],
            "data.patch",
        ),
        (
            "a grey LR for a colour HR",
            ["eval", "--model", "bicubic", "--data", str(pair), "--scale", "4"],
            "not a pair",
        ),
        (
            "an LR file with no HR partner",
            ["eval", "--model", "bicubic", "--data", str(orphan), "--scale", "4"],
            "no HR partner",
        ),
        (
            "an image declaring an absurd size",
            ["upscale", str(bomb), "-o", out, "--model", "bicubic", "--scale", "2"],
            "1:too large",
        ),
        ("a config that is not YAML", ["train", "--config", str(tmp / "bad.yaml"), "--out", out], "not valid YAML"),
        (
            "a config that is not a mapping",
            ["train", "--config", str(tmp / "list.yaml"), "--out", out],
            "expected a mapping",
        ),
        (
            "a --set value that is not YAML",
            ["train", "--model", "espcn", "--set", "model_args={a: [", "--out", out],
            "not YAML",
        ),
        ("a device this build lacks", ["train", "--model", "espcn", "--set", "device=mps", "--out", out], "mps"),
        (
            "a model value its constructor refuses",
            ["train", "--model", "imdn", "--set", "model_args={channels: 8}", "--out", out],
            "imdn",
        ),
        (
            "an output folder that holds the inputs",
            ["upscale", str(small / "HR"), "-o", str(small / "HR"), "--model", "bicubic", "--scale", "2"],
            "where the inputs are",
        ),
        (
            "a tile below the model's minimum",
            [
                "upscale",
                str(tmp / "small" / "HR" / "a.png"),
                "-o",
                out,
                "--model",
                "rlfn_x4.safetensors",
                "--tile",
                "4",
            ],
            "tile",
        ),
    ]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("index", range(12))
def test_a_users_mistake_is_one_line_and_changes_nothing(
    index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from srkit.models import create_model, save

    save(create_model("rlfn", scale=4), tmp_path / "rlfn_x4.safetensors")
    what, argv, says = _cases(tmp_path)[index]
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    try:
        code = srkit_cli.main(argv)
    except SystemExit as e:  # argparse's own line
        code = e.code
    captured = capsys.readouterr()
    err = captured.err
    batch = says.startswith("1:")  # a batch names the bad file, goes on, and exits 1 at the end
    assert code == (1 if batch else 2), f"{what}: exit {code}\n{err}"
    assert "Traceback" not in err and "bug in srkit" not in err, f"{what}:\n{err}"
    last = [line for line in (captured.out if batch else err).splitlines() if line.strip()][-1]
    assert says.removeprefix("1:") in last, f"{what}: {last!r}"
    after = _snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, f"{what}: a file changed"


def test_a_finite_number_bound_is_what_refuses_nan() -> None:
    from srkit.cli.args import number

    with pytest.raises(argparse.ArgumentTypeError):
        number(0.0)("nan")
    assert number(0.0)("0.5") == 0.5 and math.isfinite(number(0.0)("1e300"))


# The file-taking places of every command: (command, a minimal argv whose {slot} takes the bad value,
# the kind of file expected there). Each argv is small enough to finish in seconds if a bad value got
# through, so a missed check shows as a wrong exit or a traceback, not as a hang.
_TINY_CURVES = "--scale 2 --iters 1 --at 1 --patch 16 --batch 1"
_TINY_SPOS = "--scale 2 --channels 16 --min-blocks 1 --max-blocks 1 --iters 1 --patch 32 --batch 1"
FILE_SLOTS: list[tuple[str, list[str], str]] = [
    (command, argv.split(), kind)
    for command, argv, kind in (
        ("srkit", "eval --model {slot} --data {data} --scale 2", "pth"),
        ("srkit", "eval --model espcn --weights {slot} --data {data} --scale 2", "pth"),
        ("srkit", "eval --model bicubic --data {slot} --scale 2", "dir"),
        ("srkit", "compare --models bicubic {slot} --data {data} --scale 2 --out {out}", "pth"),
        ("srkit", "upscale {img} -o {out} --model {slot}", "pth"),
        ("srkit", "upscale {img} -o {out} --model espcn --weights {slot}", "pth"),
        ("srkit", "upscale {slot} -o {out} --model bicubic --scale 2", "png-batch"),
        ("srkit", "compare --models bicubic --data {slot} --scale 2 --out {out}", "dir"),
        ("srkit", "export espcn --weights {slot} -o {out}/x.onnx", "pth"),
        ("srkit", "export {slot} -o {out}/x.onnx", "pth"),
        ("srkit", "export {ckpt} -o {out}/x.onnx --check-image {slot}", "png"),
        ("srkit", "train --config {slot} --out {out}", "yaml"),
        ("srkit", "train --model espcn --scale 2 --data {slot} --iters 1 --out {out}", "dir"),
        ("srkit", "train --model {slot} --scale 2 --data {data} --iters 1 --out {out}", "json"),
        ("srkit", "info {slot}", "pth"),
        ("srkit", "models --describe {slot}", "pth"),
        ("srkit-bench", "model {slot} --input 16x16 --reps 1 --out {out}", "pth"),
        ("srkit-bench", "ntire {slot} --baseline {ckpt} --data {data} --scale 2 --runs 1 --out {out}", "pth"),
        ("srkit-bench", "ntire {ckpt} --baseline {ckpt} --data {slot} --scale 2 --runs 1 --out {out}", "dir"),
        ("srkit", "upscale {slot} -o {out}/v.mp4 --model bicubic --scale 2", "mp4"),
        ("srkit-search", "report {slot}", "dir"),
        (
            "srkit-search",
            f"curves --out {{out}} --models {{slot}} --data {{data}} --benchmarks {{data}} {_TINY_CURVES}",
            "json",
        ),
        (
            "srkit-search",
            f"curves --out {{out}} --models espcn --data {{data}} --benchmarks {{slot}} {_TINY_CURVES}",
            "dir",
        ),
        (
            "srkit-search",
            f"curves --out {{out}} --models espcn --data {{slot}} --benchmarks {{data}} {_TINY_CURVES}",
            "dir",
        ),
        (
            "srkit-search",
            f"curves --out {{out}} --models espcn --data {{data}} --benchmarks {{data}} {_TINY_CURVES} --official espcn={{slot}}",
            "pth",
        ),
        ("srkit-search", f"spos --out {{out}} --data {{slot}} {_TINY_SPOS}", "dir"),
        ("srkit-search", f"spos --out {{out}} --data {{data}} {_TINY_SPOS} --benchmarks {{slot}}", "dir"),
        ("srkit-search", f"spos --out {{out}} --data {{data}} {_TINY_SPOS} --latency-table {{slot}}", "json"),
        (
            "srkit-search",
            f"spos --out {{out}} --data {{data}} {_TINY_SPOS} --benchmarks {{data}} --official espcn={{slot}}",
            "pth",
        ),
    )
]
BAD_FILES = ("missing", "folder", "corrupt", "empty")


def _bad(tmp: Path, kind: str, how: str) -> str:
    kind = kind.removesuffix("-batch")
    if how == "missing":
        return str(tmp / "nowhere" / f"none.{kind}")
    if how == "folder" or kind == "dir":  # a folder given for a file; for a folder, one with no images
        (tmp / "void").mkdir(exist_ok=True)
        if how == "corrupt":
            (tmp / "void" / "HR").mkdir(exist_ok=True)
            (tmp / "void" / "HR" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
        return str(tmp / "void")
    path = tmp / f"bad.{kind}"
    path.write_bytes(b"" if how == "empty" else b"\x00\x01garbage {[ not what it should be")
    return str(path)


@pytest.mark.parametrize("slot", range(len(FILE_SLOTS)), ids=[" ".join(a[:2]) for _, a, _ in FILE_SLOTS])
def test_every_file_a_command_takes_is_checked_in_one_line(
    slot: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from srkit.models import create_model, save

    command, template, kind = FILE_SLOTS[slot]
    data = _hr_folder(tmp_path / "data", {"a": (32, 32, 3), "b": (32, 32, 3)})
    save(create_model("espcn", scale=2), tmp_path / "espcn_x2.safetensors")
    Image.new("RGB", (12, 12)).save(tmp_path / "img.png")
    monkeypatch.chdir(tmp_path)
    for how in BAD_FILES:
        fill = {
            "data": str(data),
            "out": str(tmp_path / f"out_{how}"),
            "img": str(tmp_path / "img.png"),
            "ckpt": str(tmp_path / "espcn_x2.safetensors"),
            "slot": _bad(tmp_path, kind, how),
        }
        argv = [a.format(**fill) for a in template]
        before = _snapshot(tmp_path)
        try:
            code = COMMANDS[command](argv)
        except SystemExit as e:  # argparse's own line
            code = e.code
        out, err = capsys.readouterr()
        said = (out + err).strip()
        batch = kind.endswith("-batch") and how in ("corrupt", "empty")  # named, the rest go on: exit 1
        assert code == (1 if batch else 2), f"{command} {argv} ({how}): exit {code}\n{said[-2000:]}"
        assert "Traceback" not in said and "bug in srkit" not in said, f"{command} {argv} ({how}):\n{said[-2000:]}"
        if how == "missing":  # the refusal is about the bad value, not another option
            assert "none." in said, f"{command} {argv}: the line does not name the missing path:\n{said[-800:]}"
        after = _snapshot(tmp_path)
        assert {k: v for k, v in after.items() if k in before} == before, f"{command} {argv} ({how}): a file changed"


# options that read a file or folder, by their argparse dest; each must have a slot above (or a reason here)
READS = {
    "model",
    "models",
    "weights",
    "data",
    "config",
    "benchmarks",
    "latency_table",
    "check_image",
    "file",
    "describe",
    "names",
    "inputs",
    "official",
    "vgg_weights",
    "dir",
}
NOT_SWEPT = {
    "srkit-search nni": "an NNI experiment starts a manager and trial processes: its inputs reach srkit in the "
    "trials (tests/test_search_nni.py), not in this process",
    "srkit-search reinforce": "reads no file: its data is the embedded photographs",
}


def test_every_option_that_reads_a_file_is_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    swept = {(c, t[0], opt) for c, t, _ in FILE_SLOTS for opt in t if opt.startswith("-")}
    swept |= {(c, t[0], "") for c, t, _ in FILE_SLOTS}  # positionals
    missing, checked = [], 0
    for name, p in _all_parsers(monkeypatch):
        command, _, sub = name.partition(" ")
        if name in NOT_SWEPT or (command == "srkit-search" and f"srkit-search {sub}" in NOT_SWEPT):
            continue
        for a in p._actions:
            if a.dest not in READS or isinstance(a, argparse._HelpAction):
                continue
            checked += 1
            key = (command, sub or "", a.option_strings[-1] if a.option_strings else "")
            if key not in swept and (command, sub, a.option_strings[0] if a.option_strings else "") not in swept:
                missing.append(f"{name} {a.option_strings or a.dest}")
    assert not missing, f"options that read files with no bad-file slot in FILE_SLOTS: {missing}"
    assert checked >= 20, checked  # the parsers were read


def test_a_budget_below_the_spaces_floor_is_refused_before_any_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _hr_folder(tmp_path / "data", {f"a{i}": (32, 32, 3) for i in range(3)})
    argv = ["spos", "--out", str(tmp_path / "s"), "--data", str(data), *_TINY_SPOS.split(), "--budget-ms", "1e-6"]
    assert search_cli.main([*argv, "--latency-input", "16x16"]) == 2
    assert "raise the budget" in capsys.readouterr().err and not (tmp_path / "s" / "supernet.pt").exists()
