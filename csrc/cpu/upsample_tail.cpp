// The fused sub-pixel tail on the CPU: out = clamp(pixel_shuffle(x, r) [+ skip] [+ mean[c]]).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {

namespace {

template <typename T>
inline T finish(at::opmath_type<T> v, bool clamp_lo, bool clamp_hi, at::opmath_type<T> lo, at::opmath_type<T> hi) {
  if (clamp_lo && v < lo) v = lo;  // NaN passes through, as in torch.clamp
  if (clamp_hi && v > hi) v = hi;
  return static_cast<T>(v);
}

// No integer division in the inner loops: each output row reads r input channels' rows.
template <typename T>
void tail(const T* xp, const View4& xv, const T* sp, const View4& sv, const float* mp, T* op, const View4& ov,
          int64_t r, c10::optional<double> lo, c10::optional<double> hi) {
  using A = at::opmath_type<T>;
  const bool clamp_lo = lo.has_value(), clamp_hi = hi.has_value();
  const A vlo = clamp_lo ? static_cast<A>(*lo) : A(0), vhi = clamp_hi ? static_cast<A>(*hi) : A(0);
  const int64_t w_in = ov.w / r;
  if (ov.sc == 1 && ov.c > 1) {  // channels_last output
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < ov.n; ++n)
      for (int64_t oh = 0; oh < ov.h; ++oh) {
        const int64_t i = oh % r, ih = oh / r;
        for (int64_t iw = 0; iw < w_in; ++iw)
          for (int64_t j = 0; j < r; ++j) {
            const int64_t ow = iw * r + j;
            const T* src = xp + n * xv.sn + (i * r + j) * xv.sc + ih * xv.sh + iw * xv.sw;
            T* dst = op + n * ov.sn + oh * ov.sh + ow * ov.sw;
            for (int64_t c = 0; c < ov.c; ++c) {
              A v = static_cast<A>(src[c * r * r * xv.sc]);
              if (sp) v += static_cast<A>(sp[n * sv.sn + c * sv.sc + oh * sv.sh + ow * sv.sw]);
              if (mp) v += static_cast<A>(mp[c]);
              dst[c * ov.sc] = finish<T>(v, clamp_lo, clamp_hi, vlo, vhi);
            }
          }
      }
    return;
  }
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < ov.c; ++c)
      for (int64_t oh = 0; oh < ov.h; ++oh) {
        const int64_t i = oh % r, ih = oh / r;
        const T* src = xp + n * xv.sn + (c * r * r + i * r) * xv.sc + ih * xv.sh;
        const T* skip = sp ? sp + n * sv.sn + c * sv.sc + oh * sv.sh : nullptr;
        const A m = mp ? static_cast<A>(mp[c]) : A(0);
        T* dst = op + n * ov.sn + c * ov.sc + oh * ov.sh;
        for (int64_t iw = 0; iw < w_in; ++iw)
          for (int64_t j = 0; j < r; ++j) {
            const int64_t ow = iw * r + j;
            A v = static_cast<A>(src[j * xv.sc + iw * xv.sw]);
            if (skip) v += static_cast<A>(skip[ow * sv.sw]);
            if (mp) v += m;
            dst[ow * ov.sw] = finish<T>(v, clamp_lo, clamp_hi, vlo, vhi);
          }
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
