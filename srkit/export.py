"""Leaving PyTorch: a model exported to ONNX or to a ``torch.export`` program, checked against
PyTorch on a real image right after export, and an exported ONNX file run as a model again.

srkit's ops are exported through their plain-PyTorch form (:func:`srkit.ops.plain_torch`), so the
graph holds standard operators only (pixel shuffle becomes DepthToSpace, the fused convolutions
Conv + activation); weight norm is folded first. The file's metadata records what a caller needs
without srkit: architecture, hyper-parameters, scale, channels, input range and size needs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import atomic, ops
from .models.base import input_needs, padded_hw
from .nn import fold_weight_norm

FORMATS = ("onnx", "torch-export")
DTYPES = {"fp32": torch.float32, "fp16": torch.float16}
DEFAULT_OPSET = 18


class ExportError(RuntimeError):
    """The model cannot be exported as asked (missing runtime, unsupported option, failed export)."""


def onnx_runtime() -> Any:
    """The ``onnxruntime`` module, or an :class:`ExportError` naming the extra to install."""
    try:
        import onnxruntime
    except ImportError:
        raise ExportError("ONNX needs onnx, onnxscript and onnxruntime: pip install 'srkit[onnx]'") from None
    return onnxruntime


def prepare(model: nn.Module, dtype: torch.dtype = torch.float32) -> nn.Module:
    """An inference copy of ``model``: eval mode, weight norm folded, in ``dtype`` on the CPU."""
    m = fold_weight_norm(copy.deepcopy(model).eval())
    return m.to("cpu", dtype)


def metadata(model: nn.Module, dtype: torch.dtype, in_channels: int | None = None) -> dict[str, str]:
    """What the exported file says about the model (ONNX metadata_props / the program's extra file).
    Any module exports (a search block times as one): scale 1 and the example's channels then."""
    low, mult = input_needs(model)
    channels = in_channels if in_channels is not None else int(getattr(model, "in_channels", 3))
    return {
        "srkit.arch": str(getattr(model, "arch", type(model).__name__.lower())),
        "srkit.hparams": json.dumps(getattr(model, "hparams", {}), sort_keys=True),
        "srkit.scale": str(int(getattr(model, "scale", 1))),
        "srkit.in_channels": str(channels),
        "srkit.input_range": "0-1 float RGB (or Y), NCHW",
        "srkit.min_size": str(low),
        "srkit.size_multiple": str(mult),
        "srkit.dtype": "fp16" if dtype == torch.float16 else "fp32",
    }


def _sample(model: nn.Module, dtype: torch.dtype, hw: tuple[int, int] = (48, 40)) -> torch.Tensor:
    h, w = padded_hw(model, hw)
    return torch.rand(1, int(getattr(model, "in_channels", 3)), h, w, generator=torch.Generator().manual_seed(0)).to(
        dtype
    )


def _dynamic(model: nn.Module) -> dict[str, dict[int, Any]]:
    low, mult = input_needs(model)
    dim = torch.export.Dim
    if mult > 1:  # sides a multiple of `mult`: export a symbolic multiplier
        return {"x": {2: mult * dim("hm", min=-(-low // mult)), 3: mult * dim("wm", min=-(-low // mult))}}
    return {"x": {2: dim("h", min=max(low, 2)), 3: dim("w", min=max(low, 2))}}


def _root(e: BaseException) -> str:
    """The first line of the innermost cause (the exporters wrap the real error in their own)."""
    while e.__cause__ is not None:
        e = e.__cause__
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0][:300] if lines else ''}"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters' progress prints and deprecation warnings are not the user's business, nor the
    registry's note that torchvision's detection ops are skipped (srkit's graphs hold none)."""
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry.level
    registry.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        registry.setLevel(level)


def to_onnx_bytes(
    model: nn.Module,
    *,
    dtype: torch.dtype = torch.float32,
    dynamic: bool = True,
    opset: int = DEFAULT_OPSET,
    example: torch.Tensor | None = None,
) -> bytes:
    """The ONNX file of ``model`` as bytes, metadata included. ``example``: the input traced (its
    size is the one a static export takes; default a small image the model accepts)."""
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs onnx and onnxscript: pip install 'srkit[onnx]'") from None
    m = prepare(model, dtype)
    x = _sample(m, dtype) if example is None else example.detach().to("cpu", dtype)
    with ops.plain_torch(), torch.no_grad(), _quiet():
        try:
            prog = torch.onnx.export(
                m,
                (x,),
                dynamo=True,
                opset_version=opset,
                input_names=["lr"],
                output_names=["sr"],
                dynamic_shapes=_dynamic(m) if dynamic else None,
                verbose=False,
            )
        except Exception as e:  # the exporter raises many types; the user gets the model and the cause
            raise ExportError(f"{type(model).__name__}: ONNX export failed: {_root(e)}") from e
    proto = prog.model_proto
    for k, v in metadata(m, dtype, int(x.shape[1])).items():
        proto.metadata_props.add(key=k, value=v)
    return onnx.ModelProto.SerializeToString(proto)


def to_program(
    model: nn.Module, *, dtype: torch.dtype = torch.float32, dynamic: bool = True, example: torch.Tensor | None = None
) -> torch.export.ExportedProgram:
    """``model`` as a ``torch.export`` program of standard ATen operators. Its sides are
    ``Dim.AUTO``: where a size would change the graph (ESA's pooled map collapsing to 1x1 at LR
    15-20 makes a broadcast), the program keeps a run-time guard that refuses that size, rather
    than the export failing for all sizes."""
    m = prepare(model, dtype)
    x = _sample(m, dtype) if example is None else example.detach().to("cpu", dtype)
    auto = {"x": {2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO}}
    with ops.plain_torch(), torch.no_grad(), _quiet():
        try:
            return torch.export.export(m, (x,), dynamic_shapes=auto if dynamic else None)
        except Exception as e:  # as above
            raise ExportError(f"{type(model).__name__}: torch.export failed: {_root(e)}") from e


def export(
    model: nn.Module,
    path: str | Path,
    *,
    fmt: str = "onnx",
    dtype: str = "fp32",
    dynamic: bool = True,
    opset: int = DEFAULT_OPSET,
    example: torch.Tensor | None = None,
) -> Path:
    """Write ``model`` to ``path`` (atomically) as ONNX or a ``torch.export`` program (.pt2);
    ``example``: the input traced (a static export's one size)."""
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if dtype not in DTYPES:
        raise ExportError(f"dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
    path = Path(path)
    if fmt == "onnx":
        atomic.write_bytes(
            path, to_onnx_bytes(model, dtype=DTYPES[dtype], dynamic=dynamic, opset=opset, example=example)
        )
        return path
    prog = to_program(model, dtype=DTYPES[dtype], dynamic=dynamic, example=example)
    buf = io.BytesIO()
    torch.export.save(prog, buf, extra_files={"srkit.json": json.dumps(metadata(model, DTYPES[dtype]))})
    atomic.write_bytes(path, buf.getvalue())
    return path


def _no_spinning(opts: Any) -> None:
    """ONNX Runtime's threads otherwise spin for a while after each run, taking the cores from
    whatever runs next (PyTorch, in a benchmark or in a user's pipeline)."""
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")


SIZED_SESSIONS = 8  # input sizes an OnnxModel keeps a fixed-size session for


class OnnxModel(nn.Module):
    """An exported ONNX file as a model: ``forward`` runs it in ONNX Runtime (CPU tensors in and
    out); ``scale``, ``in_channels``, ``min_size`` and ``size_multiple`` come from its metadata, so
    :class:`srkit.Upscaler` pads and tiles it like the model it came from."""

    def __init__(
        self, source: str | Path | bytes, providers: list[str] | None = None, threads: int | None = None
    ) -> None:
        super().__init__()
        ort = onnx_runtime()
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads is not None:  # else ONNX Runtime's default: one thread per physical core
            opts.intra_op_num_threads = threads
        _no_spinning(opts)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        self._data, self._threads, self._providers = data, threads, providers or ["CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(data, opts, providers=self._providers)
        except Exception as e:  # noqa: BLE001 - onnxruntime's own error types
            raise ExportError(
                f"{'ONNX bytes' if isinstance(source, bytes) else source}: not a loadable ONNX model "
                f"({str(e).splitlines()[0][:200]})"
            ) from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "srkit.scale" not in meta:
            raise ExportError(
                f"{source if not isinstance(source, bytes) else 'ONNX bytes'}: no srkit metadata "
                "(export it with `srkit export`)"
            )
        self.meta = meta
        self.scale, self.in_channels = int(meta["srkit.scale"]), int(meta["srkit.in_channels"])
        self.min_size, self.size_multiple = int(meta["srkit.min_size"]), int(meta["srkit.size_multiple"])
        self.np_dtype = np.float16 if meta.get("srkit.dtype") == "fp16" else np.float32
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        dims = list(inp.shape)[2:]  # ints for a static export, names for dynamic sides
        self.fixed_hw: tuple[int, int] | None = (
            (int(dims[0]), int(dims[1])) if all(isinstance(d, int) for d in dims) else None
        )
        # a dynamic export's sides by name ("h", "w"), which a per-size session fixes (see _session)
        self._side_names = tuple(dims) if all(isinstance(d, str) and d.isidentifier() for d in dims) else None
        self._by_size: dict[tuple[int, int], Any] = {}

    def _session(self, h: int, w: int) -> Any:
        """The session for an (h, w) input: for a dynamic export, one with its sides fixed to h and w
        (ONNX Runtime then plans memory and kernels for that shape, as for a static export; measured
        faster), made on first use and kept for the last few sizes; else the one session."""
        if self._side_names is None or self.fixed_hw is not None:
            return self.session
        if (h, w) not in self._by_size:
            ort = onnx_runtime()
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            if self._threads is not None:
                opts.intra_op_num_threads = self._threads
            _no_spinning(opts)
            for name, v in zip(self._side_names, (h, w), strict=True):
                opts.add_free_dimension_override_by_name(name, v)
            if len(self._by_size) >= SIZED_SESSIONS:
                self._by_size.pop(next(iter(self._by_size)))
            self._by_size[(h, w)] = ort.InferenceSession(self._data, opts, providers=self._providers)
        return self._by_size[(h, w)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if self.fixed_hw is not None:  # a static export: smaller inputs are padded to its size, larger refused
            fh, fw = self.fixed_hw
            if h > fh or w > fw:
                raise ExportError(
                    f"this ONNX file takes LR inputs of {fh}x{fw} only, not {h}x{w}: tile with --tile "
                    f"{min(fh, fw)} or export with --dynamic-shapes"
                )
            if (h, w) != (fh, fw):  # an input of the export's size goes in as it is (no copy)
                x = torch.nn.functional.pad(x, (0, fw - w, 0, fh - h), mode="replicate")
        feed = {self.input_name: x.detach().cpu().numpy().astype(self.np_dtype, copy=False)}
        y = self._session(*x.shape[-2:]).run(None, feed)[0]
        return torch.from_numpy(y)[..., : h * self.scale, : w * self.scale].to(x.dtype)


@dataclass(frozen=True)
class Check:
    """An exported file against PyTorch on one image (float outputs in [0, 1] units)."""

    file: str
    runtime: str
    image: str
    input_hw: tuple[int, int]
    max_abs_diff: float
    psnr_db: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def save(self, path: Path) -> Path:
        atomic.write_json(path, {**asdict(self), "ok": self.ok})
        return path


def check(
    model: nn.Module, path: str | Path, image: torch.Tensor, image_name: str, *, fmt: str = "onnx", dtype: str = "fp32"
) -> Check:
    """Run the exported file and ``model`` (srkit's default backends, float32) on ``image``
    ((3, h, w) uint8) and compare: max abs difference and PSNR between the two outputs."""
    x = image[None].float().div(255.0)[:, : int(getattr(model, "in_channels", 3))]
    m = prepare(model)
    with torch.no_grad():
        want = m(x)
        got = _run_exported(path, fmt, x)
    diff = (got.float() - want).abs()
    mse = float(diff.double().pow(2).mean())
    tol = 2e-2 if dtype == "fp16" else 1e-3  # float accumulation order differs between runtimes; fp16 rounds at 1e-3
    return Check(
        str(path),
        "onnxruntime" if fmt == "onnx" else "torch.export",
        image_name,
        tuple(x.shape[-2:]),
        float(diff.max()),
        10 * math.log10(1.0 / mse) if mse > 0 else math.inf,
        tol,
    )


def _run_exported(path: str | Path, fmt: str, x: torch.Tensor) -> torch.Tensor:
    if fmt == "onnx":
        return OnnxModel(path)(x)
    prog = torch.export.load(str(path))
    dt = next((p.dtype for p in prog.parameters()), torch.float32)
    return prog.module()(x.to(dt)).float()
