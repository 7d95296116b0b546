"""``srkit.ops.wdsr_a_fused``: WDSR-A's block as one op,
``x + res_scale * conv_k(relu(conv_k(x, w1) + b1), w2) + b2)`` ('same' padding, odd k).

The Triton kernel runs the whole block in one launch with halo recomputation (see
``srkit.kernels.wdsr_a_fused``): the wide activation lives only in a bounded per-program scratch.
It is the alternative to :class:`srkit.nn.WideActBlockA`'s default, two ``conv_epilogue`` calls;
``WideActBlockA(fused=True)`` selects it. There is no C++ or CUDA C++ implementation: on the CPU
the reference (two convolutions) is the choice. The backward recomputes the block in PyTorch from
x and the weights (nothing E channels wide is saved by the forward).
Registered as ``srkit::wdsr_a_fused``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..reference.wdsr_a_fused import wdsr_a_fused as reference
from . import _checks, precision
from .dispatch import call, custom_op, declare, dispatch, reference_inline, triton_interpreting


def _triton(x, w1, b1, w2, b2, res_scale, out) -> None:
    from srkit.kernels import wdsr_a_fused as k

    k.wdsr_a_fused(x, w1, b1, w2, b2, res_scale, out, allow_tf32=precision.conv_allows_tf32())


declare("wdsr_a_fused", {"triton": _triton, "torch": reference}, order={"cpu": ("torch",)})


def _unsupported(x: torch.Tensor) -> Callable[[str], str]:
    """The fused kernel exists for tensor-core throughput: compiled, it declines IEEE fp32 (TF32
    turned off), where its FMA products over the halo tile and all C channels spill registers
    (compile gate: up to 4.3 KB per thread on sm_90 with Triton 3.6). The dispatcher then names the
    fallback. The interpreter compiles nothing, so tests there run the kernel in every mode."""
    float64 = _checks.no_float64_on_tensor_cores(x)

    def why(backend: str) -> str:
        if (
            backend == "triton"
            and x.dtype == torch.float32
            and not precision.conv_allows_tf32()
            and not triton_interpreting()
        ):
            return "the fused WDSR-A kernel needs tensor cores: fp16/bf16, or fp32 with TF32 allowed (PyTorch's conv TF32 flag is off)"
        return float64(backend)

    return why


@custom_op("srkit::wdsr_a_fused", mutates_args=())
def _wdsr_a_fused_op(
    x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor, res_scale: float
) -> torch.Tensor:
    out = _checks.new_output(x, x.shape)
    args = [t.to(x.dtype) for t in (w1, b1, w2, b2)]  # every backend lays the weights out itself
    dispatch("wdsr_a_fused", x.device, x.dtype, _unsupported(x))(x, *args, res_scale, out)
    return out


@_wdsr_a_fused_op.register_fake
def _(x, w1, b1, w2, b2, res_scale) -> torch.Tensor:
    return _checks.new_output(x, x.shape)


def _setup(ctx, inputs, output) -> None:
    ctx.save_for_backward(*inputs[:5])
    ctx.res_scale = inputs[5]


def _backward(ctx, g: torch.Tensor):
    saved = ctx.saved_tensors
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(need) for t, need in zip(saved, ctx.needs_input_grad[:5], strict=False)]
        x, w1, b1, w2, b2 = leaves
        y = reference(x, w1.to(x.dtype), b1.to(x.dtype), w2.to(x.dtype), b2.to(x.dtype), ctx.res_scale)
    wanted = [t for t in leaves if t.requires_grad]
    grads = iter(torch.autograd.grad(y, wanted, g) if wanted else ())
    return (*(next(grads) if t.requires_grad else None for t in leaves), None)


_wdsr_a_fused_op.register_autograd(_backward, setup_context=_setup)


def wdsr_a_fused(
    x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor, res_scale: float = 1.0
) -> torch.Tensor:
    """WDSR-A's block: x (N, C, H, W), w1 (E, C, k, k), b1 (E,), w2 (C, E, k, k), b2 (C,), odd k.
    Output in x's dtype and layout."""
    op = "wdsr_a_fused"
    _checks.tensor4(x, "x", op)
    _checks.float_dtype(x, "wdsr_a_fused")
    c = x.shape[1]
    e, k = w1.shape[0], w1.shape[-1]
    if (
        w1.dim() != 4
        or tuple(w1.shape[1:]) != (c, k, k)
        or k % 2 == 0
        or tuple(w2.shape) != (c, e, k, k)
        or b1.shape != (e,)
        or b2.shape != (c,)
    ):
        raise ValueError(
            f"srkit.wdsr_a_fused: the weights do not make a block for {c} channels: w1 {tuple(w1.shape)}, "
            f"b1 {tuple(b1.shape)}, w2 {tuple(w2.shape)}, b2 {tuple(b2.shape)} "
            "(expected (E, C, k, k), (E,), (C, E, k, k), (C,) with odd k)"
        )
    for t, name in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2")):
        _checks.same_device(x, t, f"x and {name}", op)
    if reference_inline(op, x, w1, b1, w2, b2):
        return reference(x, w1.to(x.dtype), b1.to(x.dtype), w2.to(x.dtype), b2.to(x.dtype), res_scale)
    return call(_wdsr_a_fused_op, x, w1, b1, w2, b2, float(res_scale))
