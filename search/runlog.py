"""The append-only log of a search run: one JSON line per evaluated candidate, written as it goes.

Each line is flushed and fsync'ed before the next candidate starts, so a crash or Ctrl-C loses at
most the candidate being evaluated; a torn last line (the process died mid-write) is dropped when
the log is read back. :meth:`RunLog.get` lets a resumed run skip what it already evaluated.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
