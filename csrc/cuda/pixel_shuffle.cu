// pixel_shuffle / pixel_unshuffle as a strided gather of raw elements (bit-exact for every dtype).
#include <cuda_runtime.h>

#include "dtype.cuh"
#include "launchers.h"

namespace srkit {
namespace cuda {
namespace {

constexpr int kThreads = 256;

// One block row per (n, c, oh) output row: the index math is done once per row, threads walk ow.
template <typename T>
__global__ void shuffle_rows(const T* __restrict__ in, View4 iv, T* __restrict__ out, View4 ov, ShuffleMap map) {
  const int64_t row = blockIdx.x;  // over n * c * oh
  const int64_t oh = row % ov.h;
  const int64_t c = (row / ov.h) % ov.c;
  const int64_t n = row / (ov.h * ov.c);
  for (int64_t ow = blockIdx.y * (int64_t)blockDim.x + threadIdx.x; ow < ov.w; ow += (int64_t)gridDim.y * blockDim.x) {
    int64_t ic, ih, iw;
    map.source(c, oh, ow, ic, ih, iw);
    out[ov.offset(n, c, oh, ow)] = in[iv.offset(n, ic, ih, iw)];
  }
}

// channels_last output: threads walk the (ow, c) plane of one (n, oh) row, so stores are contiguous.
template <typename T>
__global__ void shuffle_rows_cl(const T* __restrict__ in, View4 iv, T* __restrict__ out, View4 ov, ShuffleMap map) {
  const int64_t row = blockIdx.x;  // over n * oh
  const int64_t oh = row % ov.h, n = row / ov.h;
  const int64_t len = ov.w * ov.c;
  for (int64_t k = blockIdx.y * (int64_t)blockDim.x + threadIdx.x; k < len; k += (int64_t)gridDim.y * blockDim.x) {
    const int64_t c = k % ov.c, ow = k / ov.c;
    int64_t ic, ih, iw;
    map.source(c, oh, ow, ic, ih, iw);
    out[ov.offset(n, c, oh, ow)] = in[iv.offset(n, ic, ih, iw)];
  }
}

template <typename T>
int launch(const void* in, View4 iv, void* out, View4 ov, ShuffleMap map, cudaStream_t stream) {
  if (ov.n * ov.c * ov.h * ov.w == 0) return 0;
  const RowLaunch l = row_launch(ov, kThreads);
  if (l.channels_last)
    shuffle_rows_cl<T><<<l.grid, kThreads, 0, stream>>>(static_cast<const T*>(in), iv, static_cast<T*>(out), ov, map);
  else
    shuffle_rows<T><<<l.grid, kThreads, 0, stream>>>(static_cast<const T*>(in), iv, static_cast<T*>(out), ov, map);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int pixel_shuffle(const void* in, View4 in_v, void* out, View4 out_v, ShuffleMap map, int elem_size,
                  cudaStream_t stream) {
  switch (elem_size) {
    case 1: return launch<uint8_t>(in, in_v, out, out_v, map, stream);
    case 2: return launch<uint16_t>(in, in_v, out, out_v, map, stream);
    case 4: return launch<uint32_t>(in, in_v, out, out_v, map, stream);
    case 8: return launch<uint64_t>(in, in_v, out, out_v, map, stream);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

}  // namespace cuda
}  // namespace srkit
