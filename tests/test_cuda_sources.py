"""The CUDA kernels are free of torch headers, so nvcc compiles them on any machine with a toolkit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CSRC = Path(__file__).resolve().parents[1] / "csrc"
CU_FILES = sorted((CSRC / "cuda").glob("*.cu"))


def test_cuda_sources_do_not_include_torch() -> None:
    for f in [*CU_FILES, *(CSRC / "cuda").glob("*.cuh"), *(CSRC / "cuda").glob("*.h"), CSRC / "common.h"]:
        text = f.read_text()
        assert "torch" not in text.split("//")[0] and "#include <ATen" not in text and "#include <torch" not in text, f


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="no CUDA toolkit (nvcc) on this machine")
@pytest.mark.parametrize("source", CU_FILES, ids=lambda p: p.name)
def test_nvcc_compiles(source: Path, tmp_path: Path) -> None:
    res = subprocess.run(
        ["nvcc", "-c", "-std=c++17", "-O2", "-arch=sm_90", str(source), "-o", str(tmp_path / "k.o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
