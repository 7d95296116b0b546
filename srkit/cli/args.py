"""Argparse types shared by every srkit command: each refuses a value it cannot mean in argparse's
own one line (``error: argument --iters: expected an integer >= 1, got 0``, exit 2), so bounds are
checked where the value is parsed, once, and named there."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def count(minimum: int) -> Callable[[str], int]:
    """An integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {v}")
        return v

    return parse


def number(minimum: float = 0.0, *, above: bool = False, maximum: float | None = None) -> Callable[[str], float]:
    """A finite float >= ``minimum`` (> with ``above``), and <= ``maximum`` where given."""
    bound = f"{'>' if above else '>='} {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}") from None
        low = v <= minimum if above else v < minimum
        if not math.isfinite(v) or low or (maximum is not None and v > maximum):
            raise argparse.ArgumentTypeError(f"expected a finite number {bound}, got {text}")
        return v

    return parse


def size_hw(text: str) -> tuple[int, int]:
    """``HxW`` with both sides >= 1 (e.g. 270x480), or a named size (720p: 720x1280), parsed by
    :func:`srkit.profiler.modelbench.parse_resolution`."""
    from ..profiler.modelbench import parse_resolution

    try:
        return parse_resolution(text.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def check_order(p: argparse.ArgumentParser, low: tuple[str, int], high: tuple[str, int]) -> None:
    """Refuse ``low`` > ``high`` (e.g. --min-blocks 5 --max-blocks 3) in argparse's one line."""
    if low[1] > high[1]:
        p.error(f"{low[0]} ({low[1]}) is above {high[0]} ({high[1]})")


def default(owner: object, name: str) -> str:
    """'(default: X)' for a help line, read from the dataclass (or function) the option fills, so the
    command states the library's default instead of keeping a copy of it."""
    import dataclasses
    import inspect

    if dataclasses.is_dataclass(owner):
        f = {f.name: f for f in dataclasses.fields(owner)}[name]
        value = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
    else:
        value = inspect.signature(owner).parameters[name].default  # type: ignore[arg-type]
    if isinstance(value, (tuple, list)):
        value = " ".join(str(v) for v in value) or "none"
    return f"(default: {value})"


def given(args: argparse.Namespace, **fields: str) -> dict[str, object]:
    """{field: the option's value} for the options given on the command line (lists as tuples). An
    option left out is dropped, so the dataclass's own default applies: one place for each default."""
    values = {field: getattr(args, opt) for field, opt in fields.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}


def as_options(line: str, options: dict[str, str]) -> str:
    """A configuration's one line (srkit.validation: keyed by field name) in a command's own words:
    each dotted field name that has an option (``evolution.topk`` -> ``--topk``) replaced by it."""
    import re

    for field in sorted(options, key=len, reverse=True):
        line = re.sub(rf"(?<![\w.-]){re.escape(field)}(?![\w])", options[field], line)
    return line


def options_of(prefix: str = "", **fields: str) -> dict[str, str]:
    """{'<prefix><field>': '--<dest>'} for a given(...) mapping of field names to argparse dests."""
    return {prefix + field: "--" + dest.replace("_", "-") for field, dest in fields.items()}
