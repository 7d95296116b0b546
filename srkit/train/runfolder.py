"""A run folder has one writer and is never replaced unasked.

:func:`claim` takes the folder's lock (``filelock``; a second run into the same folder is refused
while the first holds it) and refuses a folder that already holds a run unless the caller resumes
it or asked to overwrite it, in which case the old run's files are removed first, so a fresh run
never appends to an old log or leaves an old ``best.pt`` beside its own.

Every kind of run (training, search, learning curves, an NNI experiment) records the configuration
it ran with in the same file, ``config.yaml`` (:func:`write_config`, :func:`read_config`); what a
resumed run may change differs by kind and is checked by each.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from filelock import FileLock, Timeout

from .. import atomic
from ..models.errors import CheckpointError

CONFIG = "config.yaml"  # every kind of run records its configuration here
# where runs written before every kind used CONFIG kept it (searches, curves, NNI): read on resume
LEGACY_CONFIGS = ("config.json", "curves.json", "nni_settings.json")
RUN_FILES = (CONFIG, "latest.pt", "best.pt", "log.jsonl", "metrics.json", "model.safetensors", "tensorboard")
LOCK_NAME = ".srkit-run.lock"
KIND_FILE = ".srkit-run.json"  # what the folder holds: {"kind": "training" | "search" | "curves"}
# how a folder written before KIND_FILE existed tells its kind (config.yaml alone, which every kind
# writes now, tells none)
SIGNS = {
    "training": ("latest.pt", "best.pt", "model.safetensors"),
    "search": ("config.json", "space.json", "nni_settings.json", "controller.pt"),
    "curves": ("curves.json",),
}


class RunFolderError(RuntimeError):
    """The run folder cannot be written: another run holds it, or it holds a run not asked to be replaced."""


def folder_kind(out: Path) -> str | None:
    """The kind of run ``out`` holds (its mark, else its files), or None for a folder that holds none."""
    try:
        kind = json.loads((out / KIND_FILE).read_text())["kind"]
        if isinstance(kind, str):
            return kind
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return next((k for k, names in SIGNS.items() if any((out / n).exists() for n in names)), None)


def read_config(out: Path) -> dict[str, Any] | None:
    """The configuration the run in ``out`` recorded (``config.yaml``, else a legacy JSON name), or
    None for a folder that records none. A file that is not a mapping raises :class:`RunFolderError`."""
    for name in (CONFIG, *LEGACY_CONFIGS):
        path = out / name
        if not path.is_file():
            continue
        try:  # JSON read as JSON: PyYAML (YAML 1.1) reads JSON's 1e-05 as a string
            saved = json.loads(path.read_text()) if name.endswith(".json") else yaml.safe_load(path.read_text())
        except (ValueError, yaml.YAMLError) as e:
            first = (str(e).splitlines() or [""])[0][:120]
            raise RunFolderError(f"{path}: the run's recorded configuration is damaged ({first})") from None
        if not isinstance(saved, dict):
            raise RunFolderError(f"{path}: the run's recorded configuration is not a mapping of options")
        return saved
    return None


def write_config(out: Path, record: dict[str, Any]) -> Path:
    """Record ``record`` (plain values; tuples become lists) as the run's ``config.yaml``, atomically."""
    plain = json.loads(json.dumps(record))  # what it reads back as: lists, not tuples
    path = out / CONFIG
    atomic.write_bytes(path, yaml.safe_dump(plain, sort_keys=False).encode())
    return path


def existing_run(out: Path, files: Sequence[str] = RUN_FILES) -> list[str]:
    """The run files already in ``out`` (empty for a new folder)."""
    return [name for name in files if (out / name).exists()]


@contextlib.contextmanager
def claim(
    out: Path, *, resume: bool, overwrite: bool, files: Sequence[str] = RUN_FILES, kind: str = "training"
) -> Iterator[None]:
    """Hold ``out`` for one run: locked against other writers, and checked (or cleared) first.
    ``files``: the names a run of this kind writes (training's by default; a search passes its own).
    ``kind``: what the run is; a folder holding another kind of run is refused, --overwrite or not."""
    if resume and overwrite:
        raise RunFolderError(f"{out}: --resume continues the run in it, --overwrite replaces it: choose one")
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / LOCK_NAME)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunFolderError(
            f"{out}: another srkit run is writing into this folder (it holds {out / LOCK_NAME})"
        ) from None
    try:
        found = folder_kind(out)
        if found is not None and found != kind:
            raise RunFolderError(f"{out} holds a {found} run, not a {kind} run: choose another folder")
        present = existing_run(out, files)
        if present and not resume:
            if not overwrite:
                raise RunFolderError(
                    f"{out} already holds a run ({', '.join(present)}): pass --resume to continue it "
                    "or --overwrite to replace it"
                )
            for name in present:
                p = out / name
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        atomic.write_json(out / KIND_FILE, {"kind": kind})
        yield
    finally:
        lock.release()


def reconcile_log(path: Path, upto: int) -> int:
    """Make ``log.jsonl`` agree with the checkpoint a run resumes from: keep the records of
    iterations ``<= upto`` (a crash after a log write but before its checkpoint leaves a record the
    resumed run will write again) and drop a torn last line; rewritten atomically. Returns the
    number of records kept."""
    if not path.exists():
        return 0
    kept = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line torn by a crash mid-write
        if isinstance(rec, dict) and int(rec.get("iteration", upto + 1)) <= upto:
            kept.append(line)
    atomic.write_bytes(path, "".join(f"{line}\n" for line in kept).encode())
    return len(kept)


def load_state(path: Path, what: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A run's resume state (``torch.load(weights_only=True)``), or a :class:`CheckpointError`
    saying it is corrupt, truncated or not ``what`` (it lacks one of ``keys``)."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises RuntimeError, UnpicklingError, EOFError, zip errors...
        first = (str(e).splitlines() or [""])[0][:160]
        raise CheckpointError(
            f"{path}: cannot resume from it: corrupt or truncated ({type(e).__name__}: {first})"
        ) from e
    if not isinstance(blob, dict) or any(k not in blob for k in keys):
        raise CheckpointError(f"{path}: not {what}")
    return blob
