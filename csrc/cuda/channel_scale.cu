// channel_scale on CUDA: x * s[n, c], in x's and out's layouts.
#include <cuda_runtime.h>

#include "dtype.cuh"
#include "launchers.h"

namespace srkit {
namespace cuda {
namespace {

constexpr int kThreads = 256;

template <typename T, typename A>
__global__ void scale_kernel(const T* __restrict__ x, View4 xv, const A* __restrict__ s, T* __restrict__ out, View4 ov) {
  const int64_t row = blockIdx.x;  // (n, c, h)
  const int64_t h = row % ov.h, c = (row / ov.h) % ov.c, n = row / (ov.h * ov.c);
  const A k = s[n * ov.c + c];
  for (int64_t w = blockIdx.y * (int64_t)blockDim.x + threadIdx.x; w < ov.w; w += (int64_t)gridDim.y * blockDim.x)
    out[ov.offset(n, c, h, w)] = from_arith<T>(static_cast<typename Arith<T>::type>(to_arith(x[xv.offset(n, c, h, w)]) * k));
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
