// Channel attention on CUDA: per-(n, c) mean and population std (one block per plane, two passes,
// float accumulation; double for float64 input), and x * s[n, c].
#include <cuda_runtime.h>

#include "dtype.cuh"
#include "launchers.h"

namespace srkit {
namespace cuda {
namespace {

constexpr int kThreads = 256;

template <typename T, typename A>
__global__ void stats_kernel(const T* __restrict__ x, View4 v, A* mean, A* stdv) {
  __shared__ A shared_mean;
  const int64_t n = blockIdx.y, c = blockIdx.x, hw = v.h * v.w;
  const T* p = x + n * v.sn + c * v.sc;
  A sum = 0;
  for (int64_t i = threadIdx.x; i < hw; i += kThreads) sum += static_cast<A>(to_arith(p[(i / v.w) * v.sh + (i % v.w) * v.sw]));
  sum = block_sum<kThreads, A>(sum);
  if (threadIdx.x == 0) shared_mean = sum / static_cast<A>(hw);
  __syncthreads();
  const A m = shared_mean;
  A dev = 0;
  for (int64_t i = threadIdx.x; i < hw; i += kThreads) {
    const A d = static_cast<A>(to_arith(p[(i / v.w) * v.sh + (i % v.w) * v.sw])) - m;
    dev += d * d;
  }
  __syncthreads();  // warp_sums is reused by the second reduction
  dev = block_sum<kThreads, A>(dev);
  if (threadIdx.x == 0) {
    mean[n * v.c + c] = m;
    stdv[n * v.c + c] = sqrt(dev / static_cast<A>(hw));
  }
}

template <typename T, typename A>
__global__ void scale_kernel(const T* __restrict__ x, View4 xv, const A* __restrict__ s, T* __restrict__ out, View4 ov) {
  const int64_t row = blockIdx.x;  // (n, c, h)
  const int64_t h = row % ov.h, c = (row / ov.h) % ov.c, n = row / (ov.h * ov.c);
  const A k = s[n * ov.c + c];
  for (int64_t w = blockIdx.y * (int64_t)blockDim.x + threadIdx.x; w < ov.w; w += (int64_t)gridDim.y * blockDim.x)
    out[ov.offset(n, c, h, w)] = from_arith<T>(static_cast<typename Arith<T>::type>(to_arith(x[xv.offset(n, c, h, w)]) * k));
}

template <typename T>
int stats_launch(const void* x, View4 v, void* mean, void* stdv, cudaStream_t stream) {
  using A = typename Arith<T>::type;
  if (v.n * v.c == 0) return 0;
  stats_kernel<T, A><<<dim3(static_cast<unsigned>(v.c), static_cast<unsigned>(v.n)), kThreads, 0, stream>>>(
      static_cast<const T*>(x), v, static_cast<A*>(mean), static_cast<A*>(stdv));
  return static_cast<int>(cudaGetLastError());
}

template <typename T>
int scale_launch(const void* x, View4 xv, const void* s, void* out, View4 ov, cudaStream_t stream) {
  using A = typename Arith<T>::type;
  if (ov.n * ov.c * ov.h * ov.w == 0) return 0;
  scale_kernel<T, A><<<dim3(static_cast<unsigned>(ov.n * ov.c * ov.h), grid_y(ov.w, kThreads)), kThreads, 0, stream>>>(
      static_cast<const T*>(x), xv, static_cast<const A*>(s), static_cast<T*>(out), ov);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int channel_stats(const void* x, View4 v, DType dt, void* mean, void* stdv, cudaStream_t stream) {
  switch (dt) {
    case DType::F16: return stats_launch<__half>(x, v, mean, stdv, stream);
    case DType::BF16: return stats_launch<__nv_bfloat16>(x, v, mean, stdv, stream);
    case DType::F32: return stats_launch<float>(x, v, mean, stdv, stream);
    case DType::F64: return stats_launch<double>(x, v, mean, stdv, stream);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

int channel_scale(const void* x, View4 x_v, DType dt, const void* s, void* out, View4 out_v, cudaStream_t stream) {
  switch (dt) {
    case DType::F16: return scale_launch<__half>(x, x_v, s, out, out_v, stream);
    case DType::BF16: return scale_launch<__nv_bfloat16>(x, x_v, s, out, out_v, stream);
    case DType::F32: return scale_launch<float>(x, x_v, s, out, out_v, stream);
    case DType::F64: return scale_launch<double>(x, x_v, s, out, out_v, stream);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

}  // namespace cuda
}  // namespace srkit
