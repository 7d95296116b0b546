// The fused sub-pixel tail on the CPU: out = clamp(pixel_shuffle(x, r) [+ skip] [+ mean[c]]).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {

namespace {

template <typename T>
void tail(const T* xp, const View4& xv, const T* sp, const View4& sv, const float* mp, T* op, const View4& ov,
          int64_t r, c10::optional<double> lo, c10::optional<double> hi) {
  using A = at::opmath_type<T>;
  const ShuffleMap map{r, true};
  const bool clamp_lo = lo.has_value(), clamp_hi = hi.has_value();
  const A vlo = clamp_lo ? static_cast<A>(*lo) : A(0), vhi = clamp_hi ? static_cast<A>(*hi) : A(0);
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < ov.c; ++c)
      for (int64_t oh = 0; oh < ov.h; ++oh)
        for (int64_t ow = 0; ow < ov.w; ++ow) {
          int64_t ic, ih, iw;
          map.source(c, oh, ow, ic, ih, iw);
          A v = static_cast<A>(xp[xv.offset(n, ic, ih, iw)]);
          if (sp) v += static_cast<A>(sp[sv.offset(n, c, oh, ow)]);
          if (mp) v += static_cast<A>(mp[c]);
          if (clamp_lo && v < vlo) v = vlo;  // NaN passes through, as in torch.clamp
          if (clamp_hi && v > vhi) v = vhi;
          op[ov.offset(n, c, oh, ow)] = static_cast<T>(v);
        }
}

}  // namespace

void upsample_tail(const at::Tensor& x, const c10::optional<at::Tensor>& skip, const c10::optional<at::Tensor>& mean,
                   at::Tensor& out, int64_t r, c10::optional<double> lo, c10::optional<double> hi) {
  TORCH_CHECK(x.device().is_cpu() && out.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(out.scalar_type() == x.scalar_type(), "srkit: upsample_tail output dtype must equal x's");
  const View4 xv = view4(x), ov = view4(out);
  const View4 sv = skip.has_value() ? view4(*skip) : ov;
  at::Tensor mean32;
  if (mean.has_value()) mean32 = mean->to(at::kFloat).contiguous();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "srkit_upsample_tail_cpu", [&] {
    tail<scalar_t>(x.const_data_ptr<scalar_t>(), xv, skip.has_value() ? skip->const_data_ptr<scalar_t>() : nullptr, sv,
                   mean.has_value() ? mean32.const_data_ptr<float>() : nullptr, out.data_ptr<scalar_t>(), ov, r, lo, hi);
  });
}

}  // namespace cpu
}  // namespace srkit
