// Host-side launchers of the CUDA kernels (defined in the torch-free .cu files beside this one).
// Every pointer is a device pointer; every launcher returns cudaGetLastError() as an int.
#pragma once
#include <cstdint>

#include "../common.h"

typedef struct CUstream_st* cudaStream_t;

namespace srkit {
namespace cuda {

// pixel_shuffle / pixel_unshuffle: a pure copy of `elem_size`-byte elements (bit-exact for any dtype).
int pixel_shuffle(const void* in, View4 in_v, void* out, View4 out_v, ShuffleMap map, int elem_size,
                  cudaStream_t stream);

// clamp(pixel_shuffle(x) + skip + mean) for x, skip, out of dtype `dt` (F16, BF16, F32 or F64);
// `mean` is float32[C_out] or null.
int upsample_tail(const void* x, View4 x_v, const void* skip, View4 skip_v, const float* mean, void* out,
                  View4 out_v, DType dt, TailOpts opts, cudaStream_t stream);

// Per-(n, c) mean and population std of x (dtype F16/BF16/F32: float outputs; F64: double outputs),
// into contiguous (N, C) buffers; and out = x * s[n, c] with s of the same float/double type.
int channel_stats(const void* x, View4 v, DType dt, void* mean, void* stdv, cudaStream_t stream);
int channel_scale(const void* x, View4 x_v, DType dt, const void* s, void* out, View4 out_v, cudaStream_t stream);

// Per-(image, block) partial sums of squared error (on the protocol's 0..255 scale) into `partial`,
// a float64[N * blocks_per_image] buffer; returns the number of blocks per image via `blocks_per_image`.
int psnr_partials(const void* sr, DType sr_dt, View4 sr_v, const void* hr, DType hr_dt, View4 hr_v,
                  MetricOpts opts, double* partial, int64_t blocks_per_image, cudaStream_t stream);
int64_t psnr_blocks_per_image(View4 v, MetricOpts opts);

// Per-(image, tile) partial sums of the SSIM map (summed over the planes compared) into `partial`.
int ssim_partials(const void* sr, DType sr_dt, View4 sr_v, const void* hr, DType hr_dt, View4 hr_v,
                  MetricOpts opts, const double* gauss /* host, kSsimWin */, double* partial,
                  cudaStream_t stream);
int64_t ssim_tiles_per_image(View4 v, MetricOpts opts);

}  // namespace cuda
}  // namespace srkit
