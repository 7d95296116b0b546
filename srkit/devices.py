"""Whether a device string names a device this machine and this build of torch can run on."""

from __future__ import annotations

import torch


def device_problem(text: str) -> str:
    """'' when ``text`` (cpu, cuda, cuda:N, mps, xpu, ...) names a usable device, else one line saying why not."""
    try:
        dev = torch.device(text)
    except (RuntimeError, TypeError):
        return f"{text!r} is not a device (cpu, cuda, cuda:N)"
    if dev.type == "cpu":
        return ""
    build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a CPU-only build")
    backend = getattr(torch, dev.type, None)
    available = getattr(backend, "is_available", None)
    if available is None or not available():
        return f"{text}: no {dev.type.upper()} device is available here ({build})"
    count = getattr(backend, "device_count", lambda: 1)()
    if dev.index is not None and dev.index >= count:
        return f"{text}: this machine has {count} {dev.type.upper()} device(s), numbered from 0"
    return ""


def default_device() -> str:
    """The device a run takes when none is named: the GPU where one is usable, else the CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolved(device: str | torch.device) -> torch.device:
    """``device`` with its index, as a tensor placed there reports it: a bare ``cuda`` (or another
    accelerator's type) is its current device, so that ``cuda`` and ``cuda:0`` compare equal."""
    dev = torch.device(device)
    if dev.type == "cpu" or dev.index is not None:
        return dev
    backend = getattr(torch, dev.type, None)
    current = getattr(backend, "current_device", None)
    return dev if current is None else torch.device(dev.type, current())
