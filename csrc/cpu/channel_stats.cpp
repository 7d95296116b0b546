// channel_stats on the CPU: per-(n, c) mean and population std (two-pass, float64 accumulation,
// written as float32 or float64).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {
namespace {

// NCHW-like planes: one (n, c) plane per task; contiguous rows use OpenMP SIMD reductions.
template <typename T, typename S>
void stats_planes(const T* x, const View4& v, S* mean, S* stdv) {
  const int64_t hw = v.h * v.w;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < v.n; ++n)
    for (int64_t c = 0; c < v.c; ++c) {
      const T* p = x + n * v.sn + c * v.sc;
      double sum = 0.0;
      for (int64_t h = 0; h < v.h; ++h) {
        const T* row = p + h * v.sh;
        if (v.sw == 1) {
#pragma omp simd reduction(+ : sum)
          for (int64_t w = 0; w < v.w; ++w) sum += static_cast<double>(row[w]);
        } else {
          for (int64_t w = 0; w < v.w; ++w) sum += static_cast<double>(row[w * v.sw]);
        }
      }
      const double m = sum / hw;
      double dev = 0.0;
      for (int64_t h = 0; h < v.h; ++h) {
        const T* row = p + h * v.sh;
        if (v.sw == 1) {
#pragma omp simd reduction(+ : dev)
          for (int64_t w = 0; w < v.w; ++w) {
            const double d = static_cast<double>(row[w]) - m;
            dev += d * d;
          }
        } else {
          for (int64_t w = 0; w < v.w; ++w) {
            const double d = static_cast<double>(row[w * v.sw]) - m;
            dev += d * d;
          }
        }
      }
      mean[n * v.c + c] = static_cast<S>(m);
      stdv[n * v.c + c] = static_cast<S>(std::sqrt(dev / hw));
    }
}

// channels_last: walk pixels once per pass, accumulating all channels of a pixel side by side.
// Each thread sums a fixed block of rows; blocks are merged in order, so results are deterministic.
template <typename T, typename S>
void stats_channels_last(const T* x, const View4& v, S* mean, S* stdv) {
  const int64_t hw = v.h * v.w, C = v.c;
  std::vector<double> m(C), d(C);
  for (int64_t n = 0; n < v.n; ++n) {
    const T* img = x + n * v.sn;
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<double> part(v.h * C, 0.0);  // one partial per row: merged in row order
#pragma omp parallel for schedule(static)
      for (int64_t h = 0; h < v.h; ++h) {
        double* acc = &part[h * C];
        for (int64_t w = 0; w < v.w; ++w) {
          const T* px = img + h * v.sh + w * v.sw;
          if (pass == 0) {
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<double>(px[c]);
          } else {
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) {
              const double e = static_cast<double>(px[c]) - m[c];
              acc[c] += e * e;
            }
          }
        }
      }
      std::vector<double>& out = pass == 0 ? m : d;
      std::fill(out.begin(), out.end(), 0.0);
      for (int64_t h = 0; h < v.h; ++h)
        for (int64_t c = 0; c < C; ++c) out[c] += part[h * C + c];
      for (int64_t c = 0; c < C; ++c) out[c] /= hw;
    }
    for (int64_t c = 0; c < C; ++c) {
      mean[n * C + c] = static_cast<S>(m[c]);
      stdv[n * C + c] = static_cast<S>(std::sqrt(d[c]));
    }
  }
}

template <typename T, typename S>
void stats(const T* x, const View4& v, S* mean, S* stdv) {
  if (v.sc == 1 && v.c > 1)
    stats_channels_last(x, v, mean, stdv);
  else
    stats_planes(x, v, mean, stdv);
}

}  // namespace

void channel_stats(const at::Tensor& x, at::Tensor& mean, at::Tensor& stdv) {
  TORCH_CHECK(x.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(mean.is_contiguous() && stdv.is_contiguous(), "srkit: channel_stats outputs must be contiguous");
  const View4 v = view4(x);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "srkit_channel_stats_cpu", [&] {
    if (mean.scalar_type() == at::kDouble)
      stats(x.const_data_ptr<scalar_t>(), v, mean.data_ptr<double>(), stdv.data_ptr<double>());
    else
      stats(x.const_data_ptr<scalar_t>(), v, mean.data_ptr<float>(), stdv.data_ptr<float>());
  });
}

}  // namespace cpu
}  // namespace srkit
