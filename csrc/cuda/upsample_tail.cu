// The fused sub-pixel tail: out = clamp(pixel_shuffle(x, r) [+ skip] [+ mean[c]]), one read of each
// input and one write of the output, arithmetic in float (double for float64 tensors).
#include <cuda_runtime.h>

#include "dtype.cuh"
#include "launchers.h"

namespace srkit {
namespace cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__device__ __forceinline__ void tail_one(const T* __restrict__ x, const View4& xv, const T* __restrict__ skip,
                                         const View4& sv, const float* __restrict__ mean, T* __restrict__ out,
                                         const View4& ov, const TailOpts& o, int64_t n, int64_t c, int64_t oh,
                                         int64_t ow) {
  using A = typename Arith<T>::type;
  const ShuffleMap map{o.r, true};
  int64_t ic, ih, iw;
  map.source(c, oh, ow, ic, ih, iw);
  A v = to_arith(x[xv.offset(n, ic, ih, iw)]);
  if (o.has_skip) v += to_arith(skip[sv.offset(n, c, oh, ow)]);
  if (o.has_mean) v += static_cast<A>(mean[c]);
  if (o.has_clamp) {  // NaN passes through, as in torch.clamp
    v = v < static_cast<A>(o.lo) ? static_cast<A>(o.lo) : v;
    v = v > static_cast<A>(o.hi) ? static_cast<A>(o.hi) : v;
  }
  out[ov.offset(n, c, oh, ow)] = from_arith<T>(v);
}

template <typename T>
__global__ void tail_rows(const T* x, View4 xv, const T* skip, View4 sv, const float* mean, T* out, View4 ov,
                          TailOpts o) {
  const int64_t row = blockIdx.x;
  const int64_t oh = row % ov.h, c = (row / ov.h) % ov.c, n = row / (ov.h * ov.c);
  for (int64_t ow = blockIdx.y * (int64_t)blockDim.x + threadIdx.x; ow < ov.w; ow += (int64_t)gridDim.y * blockDim.x)
    tail_one<T>(x, xv, skip, sv, mean, out, ov, o, n, c, oh, ow);
}

template <typename T>
__global__ void tail_rows_cl(const T* x, View4 xv, const T* skip, View4 sv, const float* mean, T* out, View4 ov,
                             TailOpts o) {
  const int64_t row = blockIdx.x;
  const int64_t oh = row % ov.h, n = row / ov.h;
  const int64_t len = ov.w * ov.c;
  for (int64_t k = blockIdx.y * (int64_t)blockDim.x + threadIdx.x; k < len; k += (int64_t)gridDim.y * blockDim.x)
    tail_one<T>(x, xv, skip, sv, mean, out, ov, o, n, k % ov.c, oh, k / ov.c);
}

template <typename T>
int launch(const void* x, View4 xv, const void* skip, View4 sv, const float* mean, void* out, View4 ov, TailOpts o,
           cudaStream_t stream) {
  if (ov.n * ov.c * ov.h * ov.w == 0) return 0;
  const RowLaunch l = row_launch(ov, kThreads);
  const T* xs = static_cast<const T*>(x);
  const T* ss = static_cast<const T*>(skip);
  T* os = static_cast<T*>(out);
  if (l.channels_last)
    tail_rows_cl<T><<<l.grid, kThreads, 0, stream>>>(xs, xv, ss, sv, mean, os, ov, o);
  else
    tail_rows<T><<<l.grid, kThreads, 0, stream>>>(xs, xv, ss, sv, mean, os, ov, o);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int upsample_tail(const void* x, View4 x_v, const void* skip, View4 skip_v, const float* mean, void* out,
                  View4 out_v, DType dt, TailOpts opts, cudaStream_t stream) {
  switch (dt) {
    case DType::F16: return launch<__half>(x, x_v, skip, skip_v, mean, out, out_v, opts, stream);
    case DType::BF16: return launch<__nv_bfloat16>(x, x_v, skip, skip_v, mean, out, out_v, opts, stream);
    case DType::F32: return launch<float>(x, x_v, skip, skip_v, mean, out, out_v, opts, stream);
    case DType::F64: return launch<double>(x, x_v, skip, skip_v, mean, out, out_v, opts, stream);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

}  // namespace cuda
}  // namespace srkit
