"""Per-(n, c) mean and population standard deviation in Triton, two-pass, float32 accumulation.

Each program owns a block of BC channels of one image and walks the H x W plane twice in chunks of
BHW pixels (sum, then sum of squared deviations from the mean), so the statistics are stable in any
input precision. The tile is [BC, BHW]: NCHW inputs get a narrow, long tile, channels_last inputs a
wide one, so loads are contiguous in either layout.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit(do_not_specialize=["W", "HW"])  # sizes vary per image: one compile serves all
def _channel_stats_kernel(
    x_ptr,
    mean_ptr,
    std_ptr,
    C,
    W,
    HW,
    sn,
    sc,
    sh,
    sw,
    ACC: tl.constexpr,
    BC: tl.constexpr,
    BHW: tl.constexpr,
):
    n = tl.program_id(0).to(tl.int64)
    c = tl.program_id(1) * BC + tl.arange(0, BC)
    cmask = c < C
    base = x_ptr + n * sn + c.to(tl.int64)[:, None] * sc
    total = tl.zeros([BC], dtype=ACC)
    for p0 in range(0, HW, BHW):
        p = p0 + tl.arange(0, BHW)
        off = (p // W).to(tl.int64) * sh + (p % W).to(tl.int64) * sw
        m = cmask[:, None] & (p < HW)[None, :]
        total += tl.sum(tl.load(base + off[None, :], mask=m, other=0).to(ACC), axis=1)
    mean = total / HW
    dev = tl.zeros([BC], dtype=ACC)
    for p0 in range(0, HW, BHW):
        p = p0 + tl.arange(0, BHW)
        off = (p // W).to(tl.int64) * sh + (p % W).to(tl.int64) * sw
        m = cmask[:, None] & (p < HW)[None, :]
        d = tl.where(m, tl.load(base + off[None, :], mask=m, other=0).to(ACC) - mean[:, None], 0.0)
        dev += tl.sum(d * d, axis=1)
    tl.store(mean_ptr + n * C + c, mean, mask=cmask)
    # IEEE-rounded as torch.std: tl.sqrt is sqrt.approx for fp32 on a GPU (exact for fp64)
    if ACC == tl.float64:
        std = tl.sqrt(dev / HW)
    else:
        std = tl.sqrt_rn(dev / HW)
    tl.store(std_ptr + n * C + c, std, mask=cmask)


def channel_stats(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> None:
    """Write the (N, C) mean and population std of ``x`` into ``mean`` and ``std`` (contiguous)."""
    n, c, h, w = x.shape
    if n * c == 0:
        return
    channels_last = x.stride(1) == 1 and c > 1
    bc = min(32, triton.next_power_of_2(c)) if channels_last else min(4, triton.next_power_of_2(c))
    bhw = max(16, min(4096 // bc, triton.next_power_of_2(h * w)))
    acc = tl.float64 if x.dtype == torch.float64 else tl.float32
    _channel_stats_kernel[(n, triton.cdiv(c, bc))](
        x,
        mean,
        std,
        c,
        w,
        h * w,
        *x.stride(),
        ACC=acc,
        BC=bc,
        BHW=bhw,
        num_warps=4,
        num_stages=1,
    )
