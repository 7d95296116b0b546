// Batched squared error on the evaluation protocol's 0..255 scale, accumulated in float64.
// Grid: (blocks_per_image, N); each block walks a contiguous range of the shaved image's rows.
#include <cuda_runtime.h>

#include "dtype.cuh"
#include "launchers.h"

namespace srkit {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kRowsPerBlock = 4;

__global__ void sse_kernel(const void* sr, DType sdt, View4 sv, const void* hr, DType hdt, View4 hv, MetricOpts o,
                           double* partial) {
  const int64_t n = blockIdx.y;
  const int64_t hs = sv.h - 2 * o.shave, ws = sv.w - 2 * o.shave;
  const int64_t planes = o.y_only ? 1 : sv.c;
  const int64_t rows = planes * hs;
  const int64_t r0 = blockIdx.x * kRowsPerBlock;
  const int64_t r1 = r0 + kRowsPerBlock < rows ? r0 + kRowsPerBlock : rows;
  double acc = 0.0;
  for (int64_t pr = r0; pr < r1; ++pr) {
    const int64_t p = pr / hs, h = pr % hs + o.shave;
    for (int64_t w = threadIdx.x; w < ws; w += kThreads) {
      const double a = protocol_value(sr, sdt, sv, o.sr_mul, o, n, p, h, w + o.shave);
      const double b = protocol_value(hr, hdt, hv, o.hr_mul, o, n, p, h, w + o.shave);
      acc += (a - b) * (a - b);
    }
  }
  acc = block_sum<kThreads>(acc);
  if (threadIdx.x == 0) partial[n * gridDim.x + blockIdx.x] = acc;
}

}  // namespace

int64_t psnr_blocks_per_image(View4 v, MetricOpts o) {
  const int64_t planes = o.y_only ? 1 : v.c;
  return ceil_div(planes * (v.h - 2 * o.shave), kRowsPerBlock);
}

int psnr_partials(const void* sr, DType sr_dt, View4 sr_v, const void* hr, DType hr_dt, View4 hr_v, MetricOpts opts,
                  double* partial, int64_t blocks_per_image, cudaStream_t stream) {
  if (sr_v.n == 0 || blocks_per_image == 0) return 0;
  const dim3 grid(static_cast<unsigned>(blocks_per_image), static_cast<unsigned>(sr_v.n));
  sse_kernel<<<grid, kThreads, 0, stream>>>(sr, sr_dt, sr_v, hr, hr_dt, hr_v, opts, partial);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace srkit
