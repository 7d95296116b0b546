// Loading any supported element type as double / float, and storing floats back (torch-free).
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "../common.h"

namespace srkit {
namespace cuda {

__device__ __forceinline__ double load_as_double(const void* base, DType dt, int64_t off) {
  switch (dt) {
    case DType::U8: return static_cast<double>(static_cast<const uint8_t*>(base)[off]);
    case DType::F16: return static_cast<double>(__half2float(static_cast<const __half*>(base)[off]));
    case DType::BF16: return static_cast<double>(__bfloat162float(static_cast<const __nv_bfloat16*>(base)[off]));
    case DType::F32: return static_cast<double>(static_cast<const float*>(base)[off]);
    default: return static_cast<const double*>(base)[off];
  }
}

template <typename T> struct Arith { using type = float; };
template <> struct Arith<double> { using type = double; };

__device__ __forceinline__ float to_arith(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_arith(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_arith(float v) { return v; }
__device__ __forceinline__ double to_arith(double v) { return v; }

template <typename T> __device__ __forceinline__ T from_arith(typename Arith<T>::type v);
template <> __device__ __forceinline__ __half from_arith<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_arith<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ float from_arith<float>(float v) { return v; }
template <> __device__ __forceinline__ double from_arith<double>(double v) { return v; }

// The 0..255-scale value the evaluation protocol compares at (n, plane, h, w):
// one channel, or the luma of channels 0..2 when opts.y_only.
__device__ __forceinline__ double protocol_value(const void* base, DType dt, const View4& v, double mul,
                                                 const MetricOpts& o, int64_t n, int64_t plane, int64_t h,
                                                 int64_t w) {
  if (o.y_only) {
    const int64_t off = v.offset(n, 0, h, w);
    const double r = to255(load_as_double(base, dt, off), mul, o.quantize);
    const double g = to255(load_as_double(base, dt, off + v.sc), mul, o.quantize);
    const double b = to255(load_as_double(base, dt, off + 2 * v.sc), mul, o.quantize);
    return luma255(r, g, b);
  }
  return to255(load_as_double(base, dt, v.offset(n, plane, h, w)), mul, o.quantize);
}

// Block-wide sum of one value per thread; the result is valid in thread 0. Call __syncthreads()
// between two uses in one kernel (the warp sums live in shared memory).
template <int kThreads, typename A = double>
__device__ __forceinline__ A block_sum(A v) {
  __shared__ A warp_sums[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = A(0);
  if (warp == 0) {
    v = lane < kThreads / 32 ? warp_sums[lane] : A(0);
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  }
  return v;
}

SRKIT_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Blocks along grid.y to cover `len` with `threads` per block (grid-stride loops cover the rest).
inline unsigned grid_y(int64_t len, int threads) {
  const int64_t blocks = ceil_div(len, threads);
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

// Launch shape of the row kernels: one grid.x row per (n, c, oh) output row, or per (n, oh) row of a
// channels_last output, whose threads then walk the (ow, c) plane so that stores are contiguous.
struct RowLaunch {
  bool channels_last;
  dim3 grid;
};

inline RowLaunch row_launch(const View4& ov, int threads) {
  const bool cl = ov.sc == 1 && ov.c > 1;
  const int64_t rows = cl ? ov.n * ov.h : ov.n * ov.c * ov.h;
  return {cl, dim3(static_cast<unsigned>(rows), grid_y(cl ? ov.w * ov.c : ov.w, threads))};
}

}  // namespace cuda
}  // namespace srkit
