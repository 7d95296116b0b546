// Channel attention on the CPU: per-(n, c) mean and population std (two-pass, float64 accumulation,
// written as float32 or float64), and x * s[n, c].
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include <cmath>

#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {
namespace {

template <typename T, typename S>
void stats(const T* x, const View4& v, S* mean, S* stdv) {
  const int64_t hw = v.h * v.w;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < v.n; ++n)
    for (int64_t c = 0; c < v.c; ++c) {
      const T* p = x + n * v.sn + c * v.sc;
      double sum = 0.0;
      for (int64_t h = 0; h < v.h; ++h)
        for (int64_t w = 0; w < v.w; ++w) sum += static_cast<double>(p[h * v.sh + w * v.sw]);
      const double m = sum / hw;
      double dev = 0.0;
      for (int64_t h = 0; h < v.h; ++h)
        for (int64_t w = 0; w < v.w; ++w) {
          const double d = static_cast<double>(p[h * v.sh + w * v.sw]) - m;
          dev += d * d;
        }
      mean[n * v.c + c] = static_cast<S>(m);
      stdv[n * v.c + c] = static_cast<S>(std::sqrt(dev / hw));
    }
}

template <typename T, typename S>
void scale(const T* x, const View4& xv, const S* s, T* out, const View4& ov) {
  using A = at::opmath_type<T>;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < ov.c; ++c)
      for (int64_t h = 0; h < ov.h; ++h) {
        const A k = static_cast<A>(s[n * ov.c + c]);
        const T* src = x + n * xv.sn + c * xv.sc + h * xv.sh;
        T* dst = out + n * ov.sn + c * ov.sc + h * ov.sh;
        for (int64_t w = 0; w < ov.w; ++w) dst[w * ov.sw] = static_cast<T>(static_cast<A>(src[w * xv.sw]) * k);
      }
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

void channel_scale(const at::Tensor& x, const at::Tensor& s, at::Tensor& out) {
  TORCH_CHECK(x.device().is_cpu() && out.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(s.is_contiguous(), "srkit: channel_scale factors must be contiguous");
  const View4 xv = view4(x), ov = view4(out);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "srkit_channel_scale_cpu", [&] {
    if (s.scalar_type() == at::kDouble)
      scale(x.const_data_ptr<scalar_t>(), xv, s.const_data_ptr<double>(), out.data_ptr<scalar_t>(), ov);
    else
      scale(x.const_data_ptr<scalar_t>(), xv, s.const_data_ptr<float>(), out.data_ptr<scalar_t>(), ov);
  });
}

}  // namespace cpu
}  // namespace srkit
