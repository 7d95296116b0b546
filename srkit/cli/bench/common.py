"""What every srkit-bench subcommand shares: the options taken before or after its name, the
console, the progress bar, the device header and the record writer."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...devices import default_device
from ...profiler import report
from ...profiler.device import Peaks, fingerprint
from ..args import count, number
from ..errors import device

REPS = 20  # timed repetitions per row
MAX_SECONDS = 5.0  # a row stops repeating after this long


def console() -> Any:
    from rich.console import Console

    return Console(width=max(160, Console().width))


@contextmanager
def progress(total: int, what: str) -> Iterator[Callable[[str], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(),
        transient=True,
    ) as prog:
        task = prog.add_task(what, total=total)
        first = [True]

        def step(desc: str) -> None:
            if not first[0]:
                prog.advance(task)
            first[0] = False
            prog.update(task, description=f"{what}: {desc}")

        yield step
        prog.update(task, completed=total)


def device_header(con: Any, device: str, pk: Peaks) -> dict[str, Any]:
    fp = fingerprint(device)
    mm = ", ".join(f"{k} {v:.2f}" for k, v in pk.matmul_TFLOPs.items())
    con.print(f"[bold]{fp['device']}[/] ({device}): copy bandwidth {pk.bandwidth_GBps:.1f} GB/s, matmul TFLOP/s {mm}")
    return fp


def write(out: Path, stem: str, record: dict[str, Any], rows: list[dict[str, Any]]) -> list[Path]:
    return [report.write_json(out / f"{stem}.json", record), report.write_csv(out / f"{stem}.csv", rows)]


def options(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The options every command takes, before or after its name. A subcommand's copy has no
    defaults (argparse.SUPPRESS), so ``srkit-bench --out X model`` keeps the X given before it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if sub else value

    p.add_argument("--device", type=device, default=default(default_device()))
    p.add_argument("--out", default=default("runs/bench"), help="folder for JSON, CSV and PNG (default runs/bench)")
    p.add_argument(
        "--reps", type=count(1), default=default(REPS), help="timed repetitions per row (after 3 warm-up calls)"
    )
    p.add_argument(
        "--max-seconds",
        type=number(0.0, above=True),
        default=default(MAX_SECONDS),
        help="stop repeating a row after this long (at least 3 reps)",
    )
    p.add_argument(
        "--remeasure-peaks",
        action="store_true",
        default=default(False),
        help="measure bandwidth and matmul peaks again (else cached)",
    )
    p.add_argument("-v", "--verbose", action="store_true", default=default(False), help="log backend choices")


def as_tuple(values: list[Any] | None) -> tuple[Any, ...] | None:
    """A list option as a tuple; left out or empty: None (the run's own default)."""
    return tuple(values) if values else None
