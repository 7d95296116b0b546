"""The codebase's shape, as ARCHITECTURE.md states it: one name per op from kernel to test, and no
function over 60 lines without its reason written above it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from srkit.ops import dispatch
from srkit.profiler import cases

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60
REASON = "Longer than 60 lines by design"
# second entry points of another op's files (each op's spec names its home), and the composite of two metrics
NO_FILES_OF_THEIR_OWN = {n: s.home for n, s in dispatch.specs().items() if s.home != n}
COMPOSITES = {"psnr_ssim": ("psnr", "ssim")}


def _long_functions(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            above = "\n".join(lines[max(0, first - 4) : first - 1])
            if node.end_lineno - node.lineno + 1 > MAX_LINES and REASON not in above:
                found.append((node.lineno, node.name))
    return found


@pytest.mark.parametrize("package", ["srkit", "search", "kernels"])
def test_no_function_is_over_60_lines_without_a_stated_reason(package: str) -> None:
    bad = [
        f"{p.relative_to(ROOT)}:{n} {name}" for p in (ROOT / package).rglob("*.py") for n, name in _long_functions(p)
    ]
    assert not bad, "over 60 lines with no '# " + REASON + ": ...' above: " + ", ".join(bad)


def test_the_length_check_catches_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "a.py").write_text(f"def long():\n{body}\n")
    (tmp_path / "b.py").write_text(f"# {REASON}: one kernel.\ndef long():\n{body}\n")
    assert _long_functions(tmp_path / "a.py") == [(1, "long")]
    assert _long_functions(tmp_path / "b.py") == []


@pytest.mark.parametrize("op", sorted(set(dispatch.registered_ops()) - set(NO_FILES_OF_THEIR_OWN)))
def test_every_op_is_found_by_its_name(op: str) -> None:
    names = COMPOSITES.get(op, (op,))
    wanted = [f"srkit/ops/{op}.py", f"tests/test_{op}.py"]
    wanted += [f for n in names for f in (f"kernels/{n}.py", f"srkit/reference/{n}.py")]
    assert [f for f in wanted if not (ROOT / f).is_file()] == []
    assert op in cases.NAMES  # srkit-bench ops --only OP


@pytest.mark.parametrize(("op", "home"), sorted(NO_FILES_OF_THEIR_OWN.items()))
def test_a_second_entry_point_lives_in_its_ops_files(op: str, home: str) -> None:
    assert op in (ROOT / f"srkit/ops/{home}.py").read_text() and op in cases.NAMES


def _string_exits(path: Path) -> list[int]:
    """Lines of ``raise SystemExit(<a message>)``: a message that bypasses the one error boundary."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", None) == "SystemExit"
        and node.exc.args
        and not (isinstance(node.exc.args[0], ast.Constant) and isinstance(node.exc.args[0].value, int))
    ]


def test_errors_reach_the_one_boundary_not_a_system_exit_string(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('raise SystemExit(f"bad {x}")\nraise SystemExit(2)\n')
    assert _string_exits(tmp_path / "a.py") == [1]
    # search/nni_trial.py runs inside an NNI trial process, where NNI reports the message
    bad = [
        f"{p.relative_to(ROOT)}:{n}"
        for package in ("srkit", "search", "bench")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "nni_trial.py"
        for n in _string_exits(p)
    ]
    assert not bad, "raise a typed error (srkit/cli/errors.py) instead: " + ", ".join(bad)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_benchmarks_import_nothing_from_the_tests() -> None:
    bad = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "bench").rglob("*.py")
        if any(m.split(".")[0] == "tests" for m in _imports(p))
    ]
    assert not bad, "bench/ takes its baselines from srkit.reference, not tests/: " + ", ".join(bad)


def test_nni_is_imported_only_behind_its_adapter() -> None:
    adapter = {"search/nni_adapter.py", "search/nni_trial.py"}  # the adapter and the trial NNI launches
    bad = [
        str(p.relative_to(ROOT))
        for package in ("srkit", "search", "kernels")
        for p in (ROOT / package).rglob("*.py")
        if str(p.relative_to(ROOT)) not in adapter and any(m.split(".")[0] == "nni" for m in _imports(p))
    ]
    assert not bad, "NNI stays behind search/nni_adapter.py: " + ", ".join(bad)


def test_no_recorded_results_inside_the_installed_packages() -> None:
    records = ("*.jsonl", "*.safetensors", "*.pt", "*.pth", "*.png", "*.csv")
    bad = [
        str(p.relative_to(ROOT))
        for package in ("srkit", "search", "kernels")
        for g in records
        for p in (ROOT / package).rglob(g)
    ]
    assert not bad, "records live under bench/results/, outside what pip installs: " + ", ".join(bad[:5])


@pytest.mark.parametrize("command", ["srkit", "srkit-bench", "srkit-search"])
def test_every_subcommand_is_a_module_of_its_own(command: str) -> None:
    """Each subcommand's parser runs a function of the module named after it (srkit/cli/<sub>.py,
    srkit/cli/bench/<sub>.py, srkit/cli/search/<sub>.py); ``eval`` is eval.py imported as eval_cmd."""
    import argparse

    from srkit.cli import bench, search
    from srkit.cli import main as srkit_main

    parsers = {"srkit-bench": bench.parser, "srkit-search": search.parser}
    if command == "srkit":
        captured: list[argparse.ArgumentParser] = []
        real = argparse.ArgumentParser.parse_args

        def catch(self: argparse.ArgumentParser, *a: object, **k: object) -> argparse.Namespace:
            captured.append(self)
            raise SystemExit(0)

        argparse.ArgumentParser.parse_args = catch  # type: ignore[method-assign]
        try:
            with pytest.raises(SystemExit):
                srkit_main.main([])
        finally:
            argparse.ArgumentParser.parse_args = real  # type: ignore[method-assign]
        root = captured[0]
    else:
        root = parsers[command]()
    subs = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction)).choices
    homes = {name: sp.get_default("func").__module__.rsplit(".", 1)[-1] for name, sp in subs.items()}
    assert homes and all(home == name.replace("-", "_") for name, home in homes.items()), homes


def test_every_model_lives_in_a_family_folder_listed_once() -> None:
    import inspect

    from srkit.models import families, list_models, model_entry

    listed = {f.__name__.rsplit(".", 1)[-1] for f in families.FAMILIES}
    folders = {p.parent.name for p in (ROOT / "srkit" / "models").glob("*/__init__.py")}
    assert folders == listed, "a family folder not in srkit/models/families.py, or the reverse"
    homes = {n: inspect.getmodule(model_entry(n).fn).__name__ for n in list_models()}  # type: ignore[union-attr]
    assert all(h.count(".") == 2 and h.rsplit(".", 1)[-1] in listed for h in homes.values()), homes
    loose = [p.name for p in (ROOT / "srkit" / "models").glob("*_layouts.py")]
    assert not loose, f"layouts belong in their family's folder: {loose}"


BENCH_OTHER = {"train_step"}  # a training step of whole models, not an op


def _cases_timed_by(script: Path) -> set[str]:
    """The srkit-bench cases a bench script times (its ``op_rows("case", ...)`` calls)."""
    return set(re.findall(r'op_rows\(\s*"(\w+)"', script.read_text()))


def test_csrc_and_bench_files_are_named_after_their_op() -> None:
    ops_ = set(dispatch.specs())
    sources = [*(ROOT / "csrc" / "cpu").glob("*.cpp"), *(ROOT / "csrc" / "cuda").glob("*.cu")]
    assert sorted(p.name for p in sources if p.stem not in ops_) == []
    bound = re.findall(r'm\.def\("(\w+)_(?:cpu|cuda)"', (ROOT / "csrc" / "bindings.cpp").read_text())
    bound += re.findall(r'm\.def\("(\w+)_(?:cpu|cuda)"', (ROOT / "csrc" / "cuda_bindings.cpp").read_text())
    # srkit._C.<op>_cpu / <op>_cuda; built_with_cuda says how the extension was built
    assert bound and sorted(set(bound) - ops_ - {"built_with"}) == []
    scripts = {p.stem.removeprefix("bench_"): _cases_timed_by(p) for p in (ROOT / "bench").glob("bench_*.py")}
    # bench_NAME.py times case NAME, or the cases NAME_* of one block (bench_wdsr.py: wdsr_a, wdsr_b, ...)
    misnamed = {
        s: sorted(c for c in timed if c != s and not c.startswith(f"{s}_"))
        for s, timed in scripts.items()
        if s not in BENCH_OTHER
    }
    assert {s: c for s, c in misnamed.items() if c or not scripts[s]} == {}
    assert sorted(scripts.keys() & BENCH_OTHER) == sorted(BENCH_OTHER)
    covered = set().union(*scripts.values())
    assert sorted(set(cases.OPS) - covered) == []  # every srkit-bench case has its script


def test_every_op_is_timed_by_a_case() -> None:
    assert sorted(s.timed_in for s in dispatch.specs().values() if s.timed_in not in cases.OPS) == []
