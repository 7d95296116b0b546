"""The append-only log of a search run: one JSON line per evaluated candidate, written as it goes.

Each line is flushed and fsync'ed before the next candidate starts, so a crash or Ctrl-C loses at
most the candidate being evaluated; a torn last line (the process died mid-write) is dropped when
the log is read back. :meth:`RunLog.get` lets a resumed run skip what it already evaluated.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from srkit.train.runfolder import LEGACY_CONFIGS

# what a search writes into its run folder (srkit.train.runfolder.claim guards them)
RUN_FILES = (
    "config.yaml",
    "fingerprint.json",
    "space.json",
    "log.jsonl",
    "supernet.pt",
    "controller.pt",
    "front.json",
    "pareto.png",
    "genotypes",
    "retrain",
    "rank",
    "jobs",
    "nni_experiment.json",
    "nni",
    *LEGACY_CONFIGS,
)


class RunLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: list[dict[str, Any]] = []
        self._by_key: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            self._read()

    def _read(self) -> None:
        lines = self.path.read_bytes().split(b"\n")
        good = offset = 0  # bytes of whole records so far
        for i, line in enumerate(lines):
            offset += len(line) + 1
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                if i >= len(lines) - 2:  # the torn last line of a killed writer: cut it off
                    break
                raise ValueError(f"{self.path}: line {i + 1} is not JSON; the log is damaged") from None
            self._add(rec)
            good = offset
        size = self.path.stat().st_size
        if good < size:
            with self.path.open("r+b") as f:
                f.truncate(good)
        elif good > size:  # a whole last record without its newline: end it, or the next append joins it
            with self.path.open("ab") as f:
                f.write(b"\n")

    def _add(self, rec: dict[str, Any]) -> None:
        self.records.append(rec)
        if "key" in rec:
            self._by_key[rec["key"]] = rec

    def get(self, key: str) -> dict[str, Any] | None:
        return self._by_key.get(key)

    def append(self, rec: dict[str, Any]) -> dict[str, Any]:
        line = json.dumps(rec, sort_keys=True, allow_nan=True) + "\n"
        with self.path.open("a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self._add(rec)
        return rec

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("kind") == kind]


@contextmanager
def spent(runlog: RunLog, phase: str, label: str = "", processes: int = 1) -> Iterator[None]:
    """Log the wall time, the process's CPU time and the threads of one piece of ``phase`` (also when
    it is interrupted or terminated), so a run taken piecewise over several sittings still adds up its
    cost; ``processes``: ranks alike (torchrun). CPU time, not wall time x threads, is the cost: a
    process stopped (SIGSTOP) for a while spends wall time but none of it."""
    t0, c0 = time.monotonic(), time.process_time()
    try:
        yield
    finally:
        seconds, cpu = time.monotonic() - t0, time.process_time() - c0
        runlog.append(
            {
                "kind": "cost",
                "key": f"cost:{phase}:{label}:{time.time_ns()}",
                "phase": phase,
                "label": label,
                "seconds": seconds,
                "cpu_seconds": cpu * processes,
                "threads": torch.get_num_threads() * processes,
            }
        )
