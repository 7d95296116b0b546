// channel_scale on the CPU: x * s[n, c], in x's and out's layouts.
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

template <typename T, typename S>
void scale(const T* x, const View4& xv, const S* s, T* out, const View4& ov) {
  using A = at::opmath_type<T>;
  if (ov.sc == 1 && ov.c > 1) {  // channels_last output: pixel-major, channels innermost
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < ov.n; ++n)
      for (int64_t h = 0; h < ov.h; ++h)
        for (int64_t w = 0; w < ov.w; ++w) {
          const T* src = x + n * xv.sn + h * xv.sh + w * xv.sw;
          T* dst = out + n * ov.sn + h * ov.sh + w * ov.sw;
          const S* k = s + n * ov.c;
          for (int64_t c = 0; c < ov.c; ++c) dst[c] = static_cast<T>(static_cast<A>(src[c * xv.sc]) * static_cast<A>(k[c]));
        }
    return;
  }
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < ov.c; ++c)
      for (int64_t h = 0; h < ov.h; ++h) {
        const A k = static_cast<A>(s[n * ov.c + c]);
        const T* src = x + n * xv.sn + c * xv.sc + h * xv.sh;
        T* dst = out + n * ov.sn + c * ov.sc + h * ov.sh;
        if (xv.sw == 1 && ov.sw == 1) {
#pragma omp simd
          for (int64_t w = 0; w < ov.w; ++w) dst[w] = static_cast<T>(static_cast<A>(src[w]) * k);
        } else {
          for (int64_t w = 0; w < ov.w; ++w) dst[w * ov.sw] = static_cast<T>(static_cast<A>(src[w * xv.sw]) * k);
        }
      }
}

}  // namespace

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
