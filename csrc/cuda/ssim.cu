// Batched SSIM (Wang et al.: 11x11 Gaussian, sigma 1.5, 'valid' region) on the protocol's 0..255 scale.
// Each block computes a kTile x kTile tile of the SSIM map of one plane of one image: it stages the
// preprocessed (kTile+10)^2 halo of both images in shared memory, runs the separable filter
// (horizontal into shared memory, then vertical), and writes the tile's float64 sum.
#include <cuda_runtime.h>

#include "dtype.cuh"
#include "launchers.h"

namespace srkit {
namespace cuda {
namespace {

constexpr int kTile = 16;
constexpr int kThreads = kTile * kTile;
constexpr int kHalo = kTile + kSsimWin - 1;

struct Gauss {
  double g[kSsimWin];
};

__global__ void ssim_kernel(const void* sr, DType sdt, View4 sv, const void* hr, DType hdt, View4 hv, MetricOpts o,
                            Gauss gw, double* partial) {
  __shared__ double a[kHalo][kHalo];
  __shared__ double b[kHalo][kHalo];
  __shared__ double hsum[5][kHalo][kTile];

  const int64_t n = blockIdx.z, p = blockIdx.y;
  const int64_t hs = sv.h - 2 * o.shave, ws = sv.w - 2 * o.shave;
  const int64_t ho = hs - (kSsimWin - 1), wo = ws - (kSsimWin - 1);
  const int64_t tiles_w = ceil_div(wo, kTile);
  const int64_t ty0 = (blockIdx.x / tiles_w) * kTile, tx0 = (blockIdx.x % tiles_w) * kTile;

  for (int k = threadIdx.x; k < kHalo * kHalo; k += kThreads) {
    const int y = k / kHalo, x = k % kHalo;
    double va = 0.0, vb = 0.0;
    if (ty0 + y < hs && tx0 + x < ws) {
      const int64_t h = ty0 + y + o.shave, w = tx0 + x + o.shave;
      va = protocol_value(sr, sdt, sv, o.sr_mul, o, n, p, h, w);
      vb = protocol_value(hr, hdt, hv, o.hr_mul, o, n, p, h, w);
    }
    a[y][x] = va;
    b[y][x] = vb;
  }
  __syncthreads();

  for (int k = threadIdx.x; k < kHalo * kTile; k += kThreads) {
    const int y = k / kTile, x = k % kTile;
    double m1 = 0, m2 = 0, s11 = 0, s22 = 0, s12 = 0;
#pragma unroll
    for (int j = 0; j < kSsimWin; ++j) {
      const double g = gw.g[j], va = a[y][x + j], vb = b[y][x + j];
      m1 += g * va;
      m2 += g * vb;
      s11 += g * va * va;
      s22 += g * vb * vb;
      s12 += g * va * vb;
    }
    hsum[0][y][x] = m1;
    hsum[1][y][x] = m2;
    hsum[2][y][x] = s11;
    hsum[3][y][x] = s22;
    hsum[4][y][x] = s12;
  }
  __syncthreads();

  const int y = threadIdx.x / kTile, x = threadIdx.x % kTile;
  double val = 0.0;
  if (ty0 + y < ho && tx0 + x < wo) {
    double m[5] = {0, 0, 0, 0, 0};
#pragma unroll
    for (int i = 0; i < kSsimWin; ++i) {
#pragma unroll
      for (int q = 0; q < 5; ++q) m[q] += gw.g[i] * hsum[q][y + i][x];
    }
    val = ssim_from_moments(m[0], m[1], m[2], m[3], m[4]);
  }
  val = block_sum<kThreads>(val);
  if (threadIdx.x == 0) partial[(n * gridDim.y + p) * gridDim.x + blockIdx.x] = val;
}

}  // namespace

int64_t ssim_tiles_per_image(View4 v, MetricOpts o) {
  const int64_t planes = o.y_only ? 1 : v.c;
  const int64_t ho = v.h - 2 * o.shave - (kSsimWin - 1), wo = v.w - 2 * o.shave - (kSsimWin - 1);
  return planes * ceil_div(ho, kTile) * ceil_div(wo, kTile);
}

int ssim_partials(const void* sr, DType sr_dt, View4 sr_v, const void* hr, DType hr_dt, View4 hr_v, MetricOpts opts,
                  const double* gauss, double* partial, cudaStream_t stream) {
  const int64_t planes = opts.y_only ? 1 : sr_v.c;
  const int64_t tiles = ssim_tiles_per_image(sr_v, opts) / planes;
  if (sr_v.n == 0 || tiles == 0) return 0;
  Gauss gw;
  for (int i = 0; i < kSsimWin; ++i) gw.g[i] = gauss[i];
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(planes), static_cast<unsigned>(sr_v.n));
  ssim_kernel<<<grid, kThreads, 0, stream>>>(sr, sr_dt, sr_v, hr, hr_dt, hr_v, opts, gw, partial);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace srkit
