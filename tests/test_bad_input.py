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
SEARCH_SUBCOMMANDS = ("spos", "curves", "nni", "reinforce")


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
    roots += [(f"srkit-search {s}", _parser_of(search_cli.main, [s], monkeypatch)) for s in SEARCH_SUBCOMMANDS]
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
