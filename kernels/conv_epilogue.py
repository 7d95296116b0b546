"""A k x k convolution as an implicit GEMM on tensor cores, with its epilogue fused:
``y = [residual + res_scale *] [relu](conv(x, w) + b)`` ('same' zero padding, stride 1, odd k).

Each program computes a [BP pixels, BCO output channels] tile of one image. For every tap (kh, kw)
of the kernel and every BCI-slice of the input channels it gathers the shifted [BP, BCI] input
tile (zero outside the image: the padding is a load mask, never materialised) and multiplies it by
the [BCI, BCO] weight slice (the weights rearranged once to (k, k, CI, CO)), accumulating in fp32.
Bias, ReLU, the residual's scaled add and the rounding to the output dtype happen on the
accumulator before the single store. WDSR-A runs its two convs this way (bias+ReLU, then
res_scale+residual); WDSR-B its k x k conv (res_scale+residual). Any strides: NCHW, channels_last
or views.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from . import helpers


# Longer than 60 lines by design: one kernel whose tiles and accumulator stay in registers across its
# loops; Triton inlines @jit helpers, so splitting it would move lines, not simplify it.
@triton.jit(do_not_specialize=["H", "W"])  # sizes vary per image: one compile serves all
def _conv_epilogue_kernel(
    x_ptr,
    w_ptr,
    b_ptr,
    r_ptr,
    y_ptr,
    CI,
    CO,
    H,
    W,
    res_scale,
    xsn,
    xsc,
    xsh,
    xsw,
    rsn,
    rsc,
    rsh,
    rsw,
    ysn,
    ysc,
    ysh,
    ysw,
    K: tl.constexpr,
    BIAS: tl.constexpr,
    RELU: tl.constexpr,
    RESIDUAL: tl.constexpr,
    BP: tl.constexpr,
    BCI: tl.constexpr,
    BCO: tl.constexpr,
    PRECISION: tl.constexpr,
    DOT: tl.constexpr,
):
    n = tl.program_id(2).to(tl.int64)
    p = tl.program_id(0) * BP + tl.arange(0, BP)
    co = tl.program_id(1) * BCO + tl.arange(0, BCO)
    pmask = p < H * W
    comask = co < CO
    h = p // W
    w = p % W
    acc = tl.zeros([BP, BCO], dtype=tl.float32)
    slices = tl.cdiv(CI, BCI)
    # one runtime loop over (tap, input-channel slice): a GEMM's K loop, which Triton pipelines
    # (unrolling the taps keeps every tap's tiles live at once: spills and long compiles)
    for it in range(K * K * slices):
        tap = it // slices
        ci = (it % slices) * BCI + tl.arange(0, BCI)
        ih = h + (tap // K - K // 2)
        iw = w + (tap % K - K // 2)
        inside = pmask & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
        pix = n * xsn + ih.to(tl.int64) * xsh + iw.to(tl.int64) * xsw
        cimask = ci < CI
        xt = tl.load(
            x_ptr + pix[:, None] + ci[None, :].to(tl.int64) * xsc, mask=inside[:, None] & cimask[None, :], other=0.0
        )  # [BP, BCI]
        wt = tl.load(
            w_ptr + (tap * CI + ci[:, None]) * CO + co[None, :], mask=cimask[:, None] & comask[None, :], other=0.0
        )  # [BCI, BCO]
        acc += tl.dot(xt.to(DOT), wt.to(DOT), input_precision=PRECISION)
    if BIAS:
        acc += tl.load(b_ptr + co, mask=comask, other=0.0).to(tl.float32)[None, :]
    if RELU:
        acc = tl.maximum(acc, 0.0)
    mask = pmask[:, None] & comask[None, :]
    if RESIDUAL:
        res = tl.load(
            r_ptr + n * rsn + co[None, :].to(tl.int64) * rsc + (h.to(tl.int64) * rsh + w.to(tl.int64) * rsw)[:, None],
            mask=mask,
            other=0.0,
        )
        acc = res.to(tl.float32) + res_scale * acc
    tl.store(
        y_ptr + n * ysn + co[None, :].to(tl.int64) * ysc + (h.to(tl.int64) * ysh + w.to(tl.int64) * ysw)[:, None],
        acc.to(y_ptr.dtype.element_ty),
        mask=mask,
    )


def arrange_weight(w: torch.Tensor) -> torch.Tensor:
    """(CO, CI, k, k) -> contiguous (k, k, CI, CO): each tap's [CI, CO] slice with unit-stride rows."""
    return w.permute(2, 3, 1, 0).contiguous()


def conv_epilogue(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    residual: torch.Tensor | None,
    res_scale: float,
    relu: bool,
    out: torch.Tensor,
    allow_tf32: bool = False,
) -> None:
    """Write the fused convolution into ``out``; ``w`` (CO, CI, k, k) and ``b`` (CO,) or None, in x's dtype."""
    n, ci, h, wd = x.shape
    co, k = w.shape[0], w.shape[-1]
    if out.numel() == 0:
        return
    precision = helpers.precision(x.dtype, allow_tf32)
    # IEEE fp32 (TF32 turned off) multiplies with FMAs, its operands in registers: 64 pixels spill on sm_80
    bp = 32 if x.dtype == torch.float32 and precision == "ieee" else 64
    bci = min(32, max(16, triton.next_power_of_2(ci)))
    bco = min(64, max(16, triton.next_power_of_2(co)))
    dot = helpers.operand_type(x.dtype)
    r = residual if residual is not None else out  # never read without RESIDUAL
    _conv_epilogue_kernel[(triton.cdiv(h * wd, bp), triton.cdiv(co, bco), n)](
        x,
        arrange_weight(w),
        b if b is not None else out,
        r,
        out,
        ci,
        co,
        h,
        wd,
        float(res_scale),
        *x.stride(),
        *r.stride(),
        *out.stride(),
        K=k,
        BIAS=b is not None,
        RELU=relu,
        RESIDUAL=residual is not None,
        BP=bp,
        BCI=bci,
        BCO=bco,
        PRECISION=precision,
        DOT=dot,
        # a two-stage pipelined (tap, slice) loop: <= 32 KB; three stages spilled 24 B on sm_80 with Triton 3.6's ptxas
        num_warps=4,
        num_stages=2,
    )
