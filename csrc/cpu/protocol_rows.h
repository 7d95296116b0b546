// Reading one row of a shaved image plane as the evaluation protocol's 0..255-scale doubles.
#pragma once
#include <torch/extension.h>

#include <cmath>
#include <type_traits>

#include "../torch_views.h"

namespace srkit {
namespace cpu {

template <typename T>
inline double as_double(T v) {
  return static_cast<double>(static_cast<float>(v));  // exact for uint8, float16, bfloat16, float32
}
inline double as_double(double v) { return v; }

// kQuant: MATLAB's im2uint8 rounding, written branch-free (NaN survives the selects) so loops vectorise.
template <bool kQuant>
inline double scaled(double v, double mul) {
  v *= mul;
  if (kQuant) {
    v = v < 0.0 ? 0.0 : v;
    v = v > 255.0 ? 255.0 : v;
    // floor(v + 0.5) for v in [0, 255] by truncation (vectorises on any x86-64); NaN is kept by the select
    const double finite = v == v ? v : 0.0;
    const double rounded = static_cast<double>(static_cast<int32_t>(finite + 0.5));
    v = v == v ? rounded : v;
  }
  return v;
}

// kStride: the row's element stride when known at compile time (1: contiguous rows vectorise), else 0.
template <int64_t kStride, bool kQuant, typename T>
void load_row_strided(const T* base, const View4& v, double mul, const MetricOpts& o, int64_t n, int64_t p, int64_t h,
                      double* __restrict__ dst, int64_t len) {
  const int64_t sw = kStride ? kStride : v.sw;
  if (o.y_only) {
    const T* r = base + v.offset(n, 0, h, o.shave);
    const T* g = r + v.sc;
    const T* b = g + v.sc;
    for (int64_t x = 0; x < len; ++x)
      dst[x] = luma255(scaled<kQuant>(as_double(r[x * sw]), mul), scaled<kQuant>(as_double(g[x * sw]), mul),
                       scaled<kQuant>(as_double(b[x * sw]), mul));
  } else {
    const T* c = base + v.offset(n, p, h, o.shave);
    for (int64_t x = 0; x < len; ++x) dst[x] = scaled<kQuant>(as_double(c[x * sw]), mul);
  }
}

template <typename T>
void load_row_typed(const T* base, const View4& v, double mul, const MetricOpts& o, int64_t n, int64_t p, int64_t h,
                    double* dst, int64_t len) {
  // rounding uint8 values that are already on the 0..255 scale is the identity: skip it
  const bool quantize = o.quantize && !(std::is_same<T, uint8_t>::value && mul == 1.0);
  if (v.sw == 1)
    quantize ? load_row_strided<1, true>(base, v, mul, o, n, p, h, dst, len)
               : load_row_strided<1, false>(base, v, mul, o, n, p, h, dst, len);
  else
    quantize ? load_row_strided<0, true>(base, v, mul, o, n, p, h, dst, len)
               : load_row_strided<0, false>(base, v, mul, o, n, p, h, dst, len);
}

// Row `h` (already offset by the shave) of plane `p` of image `n`, `len` pixels from column `shave`.
inline void load_row(const at::Tensor& t, const View4& v, double mul, const MetricOpts& o, int64_t n, int64_t p,
                     int64_t h, double* dst, int64_t len) {
  switch (t.scalar_type()) {
    case at::kByte: return load_row_typed(t.const_data_ptr<uint8_t>(), v, mul, o, n, p, h, dst, len);
    case at::kHalf: return load_row_typed(t.const_data_ptr<at::Half>(), v, mul, o, n, p, h, dst, len);
    case at::kBFloat16: return load_row_typed(t.const_data_ptr<at::BFloat16>(), v, mul, o, n, p, h, dst, len);
    case at::kFloat: return load_row_typed(t.const_data_ptr<float>(), v, mul, o, n, p, h, dst, len);
    case at::kDouble: return load_row_typed(t.const_data_ptr<double>(), v, mul, o, n, p, h, dst, len);
    default: TORCH_CHECK(false, "srkit: unsupported dtype ", t.scalar_type(), " (uint8, float16, bfloat16, float32, float64)");
  }
}

}  // namespace cpu
}  // namespace srkit
