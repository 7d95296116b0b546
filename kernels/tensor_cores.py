"""What the tensor-core kernels (wide_pointwise, conv_epilogue) share: the type their products take
their operands in, and the fp32 product precision."""

from __future__ import annotations

import os

import torch
import triton.language as tl


def operand_type(dtype: torch.dtype) -> tl.dtype:
    """fp16 and bf16 multiply as themselves, fp32 as fp32. Triton's CPU interpreter multiplies
    bfloat16 wrongly (numpy has no bfloat16): there the operands, already rounded to bfloat16, are
    multiplied in float32, which is what the tensor cores compute."""
    if dtype == torch.bfloat16 and os.environ.get("TRITON_INTERPRET") == "1":
        return tl.float32
    return {torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}.get(dtype, tl.float32)


def precision(dtype: torch.dtype, allow_tf32: bool) -> str:
    """``tf32`` for float32 products only when the caller allows it, else ``ieee``."""
    return "tf32" if (allow_tf32 and dtype == torch.float32) else "ieee"
