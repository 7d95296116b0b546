"""bench/gpu_check.sh, the prepared one-call GPU run: its dry run works on a machine without a GPU."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_dry_run_shows_every_step_and_checks_it_can_start(tmp_path: Path) -> None:
    env = os.environ | {"PYTHON": os.environ.get("PYTHON", __import__("sys").executable)}
    res = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh"), "--dry-run", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    headers = re.findall(r"^== (\d+)/(\d+) ", res.stdout, flags=re.MULTILINE)
    total = int(headers[0][1]) if headers else 0
    # the steps are numbered 1..N in order, with no gap and one total, however many the script grows to
    assert headers == [(str(i), str(total)) for i in range(1, total + 1)] and total >= 5, headers
    for part in (
        "pip install",
        "-k cuda",
        "-k nccl",
        "the NCCL test collects",
        "run_all.py --device cuda",
        "every step can start",
    ):
        assert part in res.stdout, part


def test_an_unknown_option_is_refused_in_one_line() -> None:
    res = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh"), "--bogus"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2 and res.stderr.strip().count("\n") == 0 and "--bogus" in res.stderr
