"""``srkit info``: versions, the extension build, GPUs, and the backend each op would use."""

from __future__ import annotations

import argparse
import json
import platform
from typing import Any

import torch

from .. import (
    __version__,
    ops,  # noqa: F401 - importing the ops registers them
)
from ..ops import dispatch


def collect() -> dict[str, Any]:
    try:
        import triton

        triton_version = triton.__version__
    except Exception as e:  # noqa: BLE001
        triton_version = f"not importable ({type(e).__name__})"
    ext = dispatch.extension()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    info: dict[str, Any] = {
        "srkit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "triton": triton_version,
        "triton_interpreter": dispatch.triton_interpreting(),
        "extension": {
            "built": ext is not None,
            "with_cuda": bool(ext and ext.built_with_cuda()),
            "openmp_threads": ext.openmp_threads() if ext else None,
            "error": dispatch.extension_error() or None,
        },
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if torch.cuda.is_available()
        else [],
        "backends": {d: dispatch.report(d) for d in devices},
        "ops": {},
    }
    for d in devices:
        for op in dispatch.registered_ops():
            try:
                backend, fell_from, why = dispatch.plan(op, d, dispatch.implementations(op))
                info["ops"].setdefault(op, {})[d] = {"backend": backend, "instead_of": fell_from, "because": why}
            except dispatch.BackendUnavailable as e:
                info["ops"].setdefault(op, {})[d] = {"backend": None, "because": str(e)}
    return info


def run(args: argparse.Namespace) -> int:
    if args.file:
        from .models import describe_file

        return describe_file(args.file)
    info = collect()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    con = Console()
    ext = info["extension"]
    con.print(
        f"[bold]srkit[/] {info['srkit']}  python {info['python']}  torch {info['torch']} (CUDA {info['torch_cuda']})  triton {info['triton']}"
    )
    con.print(
        f"extension srkit._C: {'built' if ext['built'] else 'NOT built: ' + str(ext['error'])}"
        f"{', with CUDA' if ext['with_cuda'] else ', CPU only'}"
        + (f", {ext['openmp_threads']} OpenMP threads" if ext["built"] else "")
    )
    con.print(
        f"GPUs: {', '.join(info['gpus']) or 'none'}   Triton interpreter: {'on' if info['triton_interpreter'] else 'off'}"
    )
    t = Table(title="backend availability")
    t.add_column("device")
    for b in dispatch.BACKENDS:
        t.add_column(b)
    for d, rep in info["backends"].items():
        t.add_row(
            d, *("ok" if rep[b]["status"] == "ok" else f"[dim]no: {rep[b]['reason']}[/]" for b in dispatch.BACKENDS)
        )
    con.print(t)
    t = Table(title="backend each op would use")
    t.add_column("op")
    for d in info["backends"]:
        t.add_column(d)
    for op, per in info["ops"].items():
        t.add_row(
            op,
            *(
                f"{v['backend']}" + (f" [yellow](not {v['instead_of']})[/]" if v.get("instead_of") else "")
                for v in per.values()
            ),
        )
    con.print(t)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="versions, extension build, GPUs and the backend each op would use")
    p.add_argument("file", nargs="?", help="a checkpoint: describe the model it holds (as srkit models --describe)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)
