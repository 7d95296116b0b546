"""Test configuration. Triton's interpreter must be on before any Triton kernel is defined, so it is
switched on here, before srkit (or anything that imports Triton) is imported."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TRITON_INTERPRET", "1")
# The commands' runtime is chosen by measurement (srkit.runtime, an ONNX export per model): the suite
# runs torch unless a test asks, and keeps what srkit caches out of the user's home.
os.environ.setdefault("SRKIT_RUNTIME", "torch")
os.environ.setdefault("SRKIT_CACHE_DIR", tempfile.mkdtemp(prefix="srkit-test-cache-"))

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings

from srkit.ops import dispatch

settings.register_profile(
    "srkit",
    max_examples=20,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "srkit"))

SHARED = Path(os.environ.get("SRKIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

# The backends that can run on this machine's CPU; CUDA tensors join where a GPU exists.
CPU_BACKENDS = ["torch", "cpp", "triton"]


def device_backends() -> list[tuple[str, str]]:
    pairs = [("cpu", b) for b in CPU_BACKENDS]
    if torch.cuda.is_available():
        pairs += [("cuda", b) for b in ("triton", "cuda", "torch")]
    return pairs


@pytest.fixture(params=device_backends(), ids=lambda p: f"{p[0]}-{p[1]}")
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(device, backend): every test using it runs once per backend, strictly (no fallback)."""
    device, name = request.param
    reason = dispatch.unavailable_reason(name, device)
    if reason:
        if name == "cpp":  # the extension is part of the install: its absence is a failure, not a skip
            pytest.fail(f"the cpp backend must be available: {reason}")
        pytest.skip(reason)
    with dispatch.use_backend(name, strict=True):
        yield device, name


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED / "datasets" / "Set5" / "HR").is_dir():
        pytest.skip(f"shared reference data not found at {SHARED}")
    return SHARED


@pytest.fixture
def ieee() -> Iterator[None]:
    """fp32 products in IEEE for the whole test (what fixed fp32 tolerances assume on a GPU, where
    convolutions and srkit's dot kernels default to TF32); see tests/precision.py."""
    from srkit.ops import precision

    with precision.fp32_mode(tf32=False):
        yield
