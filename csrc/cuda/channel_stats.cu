// channel_stats on CUDA: per-(n, c) mean and population std (one block per plane, two passes,
// float accumulation; double for float64 input).
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

template <typename T>
int stats_launch(const void* x, View4 v, void* mean, void* stdv, cudaStream_t stream) {
  using A = typename Arith<T>::type;
  if (v.n * v.c == 0) return 0;
  stats_kernel<T, A><<<dim3(static_cast<unsigned>(v.c), static_cast<unsigned>(v.n)), kThreads, 0, stream>>>(
      static_cast<const T*>(x), v, static_cast<A*>(mean), static_cast<A*>(stdv));
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

}  // namespace cuda
}  // namespace srkit
