"""One form for every configuration's rules: ``(field, holds, what is allowed)``, keyed by the
field's dotted name in the dataclass (``evolution.topk``). The first broken rule becomes one line,
``<field>: invalid value <value> (allowed: <what>)``; a command says the same line with its own
option names (:func:`srkit.cli.args.as_options`), so a library never writes a command's flags."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

Rule = tuple[str, bool, str]  # (field, holds, what is allowed)


def value_of(obj: Any, field: str) -> Any:
    """The value at a dotted field name of a dataclass (or mapping); tuples shown as lists."""
    for part in field.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return list(obj) if isinstance(obj, tuple) else obj


def first_problem(obj: Any, rules: Iterable[Rule]) -> str:
    """'' when every rule holds, else the first broken rule as one line naming its field."""
    for field, holds, allowed in rules:
        if not holds:
            return f"{field}: invalid value {value_of(obj, field)!r} (allowed: {allowed})"
    return ""
