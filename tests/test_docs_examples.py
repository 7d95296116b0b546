"""The documentation's examples run as written: every ```python block of README.md and docs/*.md, and
every `srkit` line of the README's command-line block, in a fresh folder holding the files they name
(official weights and benchmark sets linked from ../shared/data when present, else skipped by name)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srkit.models import hub

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FILE = re.compile(r"[\w.-]+\.(?:pth|pt)\b")
SETS = ("Set5", "Set14", "B100")
# README command lines that take minutes: the suite runs their work elsewhere, at small sizes
LONG = {"srkit-search --quick": "the quick search takes ~7 minutes on 2 cores (tests/test_search.py runs a tiny one)"}


def _blocks(lang: str) -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        for i, m in enumerate(re.finditer(rf"```{lang}\n(.*?)```", doc.read_text(), re.S)):
            out.append((f"{doc.name}#{i + 1}", m.group(1)))
    return out


def _stage(text: str, where: Path) -> None:
    """Link the checkpoints and benchmark sets ``text`` names into ``where``; skip naming what is missing."""
    for name in _official(text):
        if not (SHARED / "weights" / name).is_file():
            pytest.skip(f"needs {name} (official weights by name, served from {SHARED / 'weights'})")
    for name in sorted(set(FILE.findall(text))):
        src = SHARED / "weights" / name
        if not src.is_file():
            pytest.skip(f"needs {name} (official weights, looked for in {SHARED / 'weights'})")
        (where / name).symlink_to(src)
    for name in SETS:
        if re.search(rf"\b{name}\b", text):
            src = SHARED / "datasets" / name
            if not src.is_dir():
                pytest.skip(f"needs the {name} benchmark folder (looked for in {SHARED / 'datasets'})")
            (where / name).symlink_to(src)


def _env(cache: Path | None = None) -> dict[str, str]:
    """Official checkpoints named in an example come from ../shared (a mirror of their addresses)."""
    mirror = {"SRKIT_WEIGHTS_URL": (SHARED / "weights").as_uri(), "SRKIT_CACHE_DIR": str(cache)} if cache else {}
    return {**os.environ, "PYTHONWARNINGS": "ignore", **mirror}


def _official(text: str) -> list[str]:
    """The official checkpoints ``text`` names by name (srkit weights), as their files."""
    return [hub.OFFICIAL[n].filename for n in sorted(set(re.findall(r"[\w-]+", text)) & set(hub.OFFICIAL))]


def _clip(path: Path) -> None:
    """A 12-frame 40x50 clip for the README's video line."""
    import av

    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=12)
        v.width, v.height, v.pix_fmt = 50, 40, "yuv420p"
        for i in range(12):
            img = np.random.default_rng(i).integers(0, 255, (40, 50, 3), dtype=np.uint8)
            out.mux(v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(v.encode())


@pytest.mark.parametrize(("where", "code"), _blocks("python"), ids=[w for w, _ in _blocks("python")])
def test_python_examples_run_as_written(where: str, code: str, tmp_path: Path) -> None:
    _stage(code, tmp_path)
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(tmp_path / "cache"),
    )
    assert res.returncode == 0, f"{where} failed:\n{res.stderr[-3000:]}"


def _readme_commands() -> list[str]:
    block = re.search(
        r"## First steps on the command line\n\n```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S
    )
    assert block, "README.md has no command-line block under 'First steps on the command line'"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.startswith("srkit")]


@pytest.mark.slow
def test_the_readme_commands_run_in_order(tmp_path: Path) -> None:
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    _clip(tmp_path / "clip.mp4")
    bin_dir = Path(sys.executable).parent
    skipped = []
    for line in _readme_commands():
        long = next((why for cmd, why in LONG.items() if line.startswith(cmd)), None)
        missing = [n for n in FILE.findall(line) + _official(line) if not (SHARED / "weights" / n).is_file()]
        missing += [n for n in SETS if re.search(rf"\b{n}\b", line) and not (SHARED / "datasets" / n).is_dir()]
        if long or missing:
            skipped.append(f"{line}: {long or 'needs ' + ', '.join(missing)}")
            continue
        _stage(line, tmp_path)
        argv = shlex.split(line)
        res = subprocess.run(
            [str(bin_dir / argv[0]), *argv[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env=_env(tmp_path / "cache"),
        )
        assert res.returncode == 0, f"{line} failed:\n{res.stderr[-3000:]}"
        for p in tmp_path.iterdir():  # each command's links are made again by the next
            if p.is_symlink():
                p.unlink()
    assert len(skipped) < len(_readme_commands()), skipped
