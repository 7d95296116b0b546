"""``srkit-bench lut``: the latency table that the search consumes.

Entries are measured forward latencies (srkit's fused path, inference mode) of

* ``stem``  -- a :class:`~srkit.models.blocknet.BlockNet` with no blocks (head conv, body conv,
  upsampler) per width, scale, upsampler and feature-map size;
* ``block`` -- one catalogue block per spec, width and feature-map size;

so a BlockNet's latency is predicted as ``stem + sum(blocks)`` (:meth:`LatencyTable.predict`), and
:func:`validate` reports how far that prediction is from whole-model measurements. The table keeps
the device fingerprint; :func:`load` refuses a table made on another device or with another srkit,
torch or Triton version, since its numbers would not describe this one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import atomic
from ..models.blocknet import BlockNet
from ..models.catalog import BlockSpec, build_block, min_size
from ..models.upsamplers import BASE_UPSAMPLERS
from .device import CPU_KEYS, IDENTITY_KEYS, dtype_name, fingerprint, identity, parse_dtype
from .modelbench import RUNTIMES, runtime_call, time_runtime
from .timing import Interleaved, interleaved

FORMAT = "srkit-latency-table"
VERSION = 1


class TableMismatch(ValueError):
    """The latency table was measured elsewhere (another device or software), or does not cover a query."""


def _key(
    kind: str,
    channels: int,
    hw: Sequence[int],
    *,
    spec: BlockSpec | None = None,
    scale: int | None = None,
    upsampler: str = "direct",
) -> str:
    what = spec.key() if spec is not None else f"scale={scale}" + ("" if upsampler == "direct" else f",up={upsampler}")
    return f"{kind}|{what}|c={channels}|{hw[0]}x{hw[1]}"


@dataclass
class LatencyTable:
    fingerprint: dict[str, Any]
    dtype: str
    batch: int
    channels_last: bool
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    runtime: str = "torch"  # what timed the entries (modelbench.RUNTIMES); tables before it was recorded: torch

    def ms(self, key: str) -> float:
        try:
            return float(self.entries[key]["median_ms"])
        except KeyError:
            raise TableMismatch(
                f"the latency table has no entry {key!r}; build one that covers it with "
                "`srkit-bench lut` (its --widths, --sizes, --scales and block grid)"
            ) from None

    def predict(
        self,
        channels: int,
        scale: int,
        blocks: Sequence[BlockSpec | dict[str, Any]],
        hw: Sequence[int],
        upsampler: str = "direct",
    ) -> float:
        """Predicted forward latency (ms) of ``BlockNet(scale, channels, blocks, upsampler=...)`` on an LR input of ``hw``."""
        specs = [b if isinstance(b, BlockSpec) else BlockSpec.from_dict(dict(b)) for b in blocks]
        return self.ms(_key("stem", channels, hw, scale=scale, upsampler=upsampler)) + sum(
            self.ms(_key("block", channels, hw, spec=s)) for s in specs
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "fingerprint": self.fingerprint,
            "identity": identity(self.fingerprint),
            "dtype": self.dtype,
            "batch": self.batch,
            "channels_last": self.channels_last,
            "runtime": self.runtime,
            "entries": self.entries,
        }

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        atomic.write_json(p, self.as_dict())
        return p


def load(path: str | Path, device: str | torch.device | None = None, runtime: str | None = None) -> LatencyTable:
    """Read a table; with ``device``, refuse it unless it was measured on this device with this
    srkit, torch and Triton (:class:`TableMismatch` says what differs); with ``runtime``, unless it
    was timed on that runtime."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise TableMismatch(f"{p}: no such latency table (make one with `srkit-bench lut --out DIR`)") from None
    except (OSError, ValueError) as e:
        raise TableMismatch(f"{p}: not a readable latency table ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TableMismatch(f"{p}: not an srkit latency table (no format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise TableMismatch(
            f"{p}: latency table version {data.get('version')} is not {VERSION}; rebuild it with `srkit-bench lut`"
        )
    table = LatencyTable(
        data["fingerprint"],
        data["dtype"],
        int(data["batch"]),
        bool(data["channels_last"]),
        data["entries"],
        str(data.get("runtime", "torch")),
    )
    if runtime is not None and table.runtime != runtime:
        raise TableMismatch(
            f"{p}: this latency table was timed on the {table.runtime} runtime, not {runtime}; "
            f"build one with `srkit-bench lut --runtime {runtime}`"
        )
    if device is not None:
        fp, there = fingerprint(device), table.fingerprint
        # the CPU under the name too, where the table recorded it
        cpu = [k for k in CPU_KEYS if fp["device_type"] == "cpu" and there.get(k) is not None]
        diff = [
            f"{k}: table {there.get(k)!r}, here {fp.get(k)!r}"
            for k in (*IDENTITY_KEYS, *cpu)
            if fp.get(k) != there.get(k)
        ]
        if diff:
            raise TableMismatch(
                f"{p}: this latency table was measured on another device or software ({'; '.join(diff)}); "
                "its numbers do not describe this machine: rebuild it here with `srkit-bench lut`"
            )
    return table


@dataclass(frozen=True)
class Grid:
    """What a table covers."""

    widths: tuple[int, ...] = (16, 32)
    sizes: tuple[tuple[int, int], ...] = ((64, 64),)
    scales: tuple[int, ...] = (4,)
    specs: tuple[BlockSpec, ...] = (
        BlockSpec("wdsr_a", expansion=2),
        BlockSpec("wdsr_a", expansion=4),
        BlockSpec("wdsr_b", expansion=4),
        BlockSpec("wdsr_b", expansion=6),
        BlockSpec("wdsr_b", expansion=6, attention="cca"),
        BlockSpec("imdb", attention="none"),
        BlockSpec("imdb", attention="cca"),
        BlockSpec("rfdb"),
    )
    upsamplers: tuple[str, ...] = BASE_UPSAMPLERS

    def items(self) -> list[Entry]:
        out: list[Entry] = []
        for c in self.widths:
            for hw in self.sizes:
                out += [Entry("stem", c, hw, scale=s, upsampler=up) for s in self.scales for up in self.upsamplers]
                out += [Entry("block", c, hw, spec=spec) for spec in self.specs if _fits(spec, c, hw)]
        return out


@dataclass(frozen=True)
class Entry:
    """One measurement of a table: a stem (scale and upsampler) or a block (spec), at a width and size."""

    kind: str
    channels: int
    hw: tuple[int, int]
    spec: BlockSpec | None = None
    scale: int | None = None
    upsampler: str | None = None


def _fits(spec: BlockSpec, channels: int, hw: tuple[int, int]) -> bool:
    try:
        build_block(spec, channels)
    except ValueError:
        return False
    return min(hw) >= min_size(spec)


def _prepare(m: torch.nn.Module, device: torch.device, dtype: torch.dtype, channels_last: bool) -> torch.nn.Module:
    m = m.eval().to(device, dtype)
    return m.to(memory_format=torch.channels_last) if channels_last else m


def _input(
    channels: int, hw: Sequence[int], batch: int, device: torch.device, dtype: torch.dtype, channels_last: bool
) -> torch.Tensor:
    x = torch.rand(batch, channels, *hw, device=device).to(dtype)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def build(
    device: str | torch.device,
    grid: Grid,
    *,
    dtype: str = "fp32",
    batch: int = 1,
    channels_last: bool = False,
    reps: int = 20,
    max_seconds: float = 2.0,
    progress: Callable[[str], None] | None = None,
    runtime: str = "torch",
) -> LatencyTable:
    if runtime not in RUNTIMES:
        raise ValueError(f"latency runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    dev = torch.device(device)
    dt = parse_dtype(dtype)
    table = LatencyTable(fingerprint(dev), dtype_name(dt), batch, channels_last, runtime=runtime)
    torch.manual_seed(0)
    for e in grid.items():
        kind, c, hw, spec, scale = e.kind, e.channels, e.hw, e.spec, e.scale
        if kind == "stem":
            assert scale is not None and e.upsampler is not None
            m, x_ch = BlockNet(scale, c, [], upsampler=e.upsampler), 3
            key = _key("stem", c, hw, scale=scale, upsampler=e.upsampler)
        else:
            assert spec is not None
            m, x_ch = build_block(spec, c), c
            key = _key("block", c, hw, spec=spec)
        if progress:
            progress(key)
        m = _prepare(m, dev, dt, channels_last)
        t, backend = time_runtime(
            m, _input(x_ch, hw, batch, dev, dt, channels_last), runtime, reps=reps, max_seconds=max_seconds
        )
        table.entries[key] = {
            "kind": kind,
            "channels": c,
            "hw": list(hw),
            "spec": spec.canonical() if spec else None,
            "scale": scale,
            "upsampler": e.upsampler,
            "backend_ran": backend,
            **t,
        }
    return table


Query = tuple[int, int, list[BlockSpec], tuple[int, int], str]


def validate(
    table: LatencyTable, device: str | torch.device, archs: Sequence[Query], *, reps: int = 5, rounds: int = 5
) -> list[dict[str, Any]]:
    """Measure whole BlockNets ``(channels, scale, blocks, lr_hw, upsampler)`` against the table's
    prediction. Each row has the prediction, the whole model's time and the prediction's relative
    error (the table was timed when it was built, so this error includes any drift of the machine
    since), and, timed in the same interleaved rounds as the whole model, the sum of its parts (stem
    and blocks) with the relative error of that sum round by round (``additivity_error``, median
    and [min, max]): how far adding parts is from the whole, whatever the machine's load."""
    rows = []
    for channels, scale, blocks, hw, up in archs:
        res, counts, backend = _whole_and_parts(
            table, torch.device(device), channels, scale, blocks, hw, up, reps=reps, rounds=rounds
        )
        whole = np.asarray(res.round_ms["whole"])
        parts = sum(n * np.asarray(res.round_ms[k]) for k, n in counts.items())
        additivity = (parts - whole) / whole
        predicted, measured = table.predict(channels, scale, blocks, hw, up), res.timings["whole"].median_ms
        rows.append(
            {
                "channels": channels,
                "scale": scale,
                "upsampler": up,
                "blocks": " ".join(b.short() for b in blocks),
                "block_specs": [b.canonical() for b in blocks],
                "lr_hw": list(hw),
                "predicted_ms": predicted,
                "measured_ms": measured,
                "p10_ms": res.timings["whole"].p10_ms,
                "p90_ms": res.timings["whole"].p90_ms,
                "relative_error": (predicted - measured) / measured,
                "parts_ms": float(np.median(parts)),
                "additivity_error": float(np.median(additivity)),
                "additivity_error_min": float(additivity.min()),
                "additivity_error_max": float(additivity.max()),
                "rounds": rounds,
                "noise": res.noise,
                "backend_ran": backend,
            }
        )
    return rows


def _whole_and_parts(
    table: LatencyTable,
    dev: torch.device,
    channels: int,
    scale: int,
    blocks: Sequence[BlockSpec],
    hw: tuple[int, int],
    up: str,
    *,
    reps: int = 5,
    rounds: int = 5,
) -> tuple[Interleaved, dict[str, int], str]:
    """The BlockNet, its stem and each distinct block, timed together on the table's runtime in
    interleaved rounds; how many times each part occurs (the stem once); the backend of the whole."""
    dt = parse_dtype(table.dtype)
    cl, n = table.channels_last, table.batch
    x3, xc = _input(3, hw, n, dev, dt, cl), _input(channels, hw, n, dev, dt, cl)
    models = {
        "whole": (BlockNet(scale, channels, list(blocks), upsampler=up), x3),
        "stem": (BlockNet(scale, channels, [], upsampler=up), x3),
    } | {b.key(): (build_block(b, channels), xc) for b in blocks}
    calls = {k: runtime_call(_prepare(m, dev, dt, cl), x, table.runtime) for k, (m, x) in models.items()}
    with torch.inference_mode():
        res = interleaved({k: c[0] for k, c in calls.items()}, dev, rounds=rounds, reps=reps)
    counts = {"stem": 1} | Counter(b.key() for b in blocks)
    return res, counts, calls["whole"][1]


def sample_archs(grid: Grid, n: int, *, depth: tuple[int, int] = (2, 6), seed: int = 0) -> list[Query]:
    """``n`` random BlockNets covered by ``grid`` (for :func:`validate`)."""
    g = torch.Generator().manual_seed(seed)

    def pick(seq: Sequence[Any]) -> Any:
        return seq[int(torch.randint(len(seq), (1,), generator=g))]

    out = []
    for _ in range(n):
        c, hw, s = pick(grid.widths), pick(grid.sizes), pick(grid.scales)
        specs = [sp for sp in grid.specs if _fits(sp, c, hw)]
        k = int(torch.randint(depth[0], depth[1] + 1, (1,), generator=g))
        out.append((c, s, [pick(specs) for _ in range(k)], hw, pick(grid.upsamplers)))
    return out
