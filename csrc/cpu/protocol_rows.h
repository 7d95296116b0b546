// Reading one row of a shaved image plane as the evaluation protocol's 0..255-scale doubles.
#pragma once
#include <torch/extension.h>

#include "../torch_views.h"

namespace srkit {
namespace cpu {

template <typename T>
void load_row_typed(const T* base, const View4& v, double mul, const MetricOpts& o, int64_t n, int64_t p, int64_t h,
                    double* dst, int64_t len) {
  if (o.y_only) {
    for (int64_t x = 0; x < len; ++x) {
      const int64_t off = v.offset(n, 0, h, x + o.shave);
      const double r = to255(static_cast<double>(static_cast<float>(base[off])), mul, o.quantize);
      const double g = to255(static_cast<double>(static_cast<float>(base[off + v.sc])), mul, o.quantize);
      const double b = to255(static_cast<double>(static_cast<float>(base[off + 2 * v.sc])), mul, o.quantize);
      dst[x] = luma255(r, g, b);
    }
  } else {
    for (int64_t x = 0; x < len; ++x)
      dst[x] = to255(static_cast<double>(base[v.offset(n, p, h, x + o.shave)]), mul, o.quantize);
  }
}

// float64 inputs must not pass through float: specialise the luma path.
template <>
inline void load_row_typed<double>(const double* base, const View4& v, double mul, const MetricOpts& o, int64_t n,
                                   int64_t p, int64_t h, double* dst, int64_t len) {
  for (int64_t x = 0; x < len; ++x) {
    if (o.y_only) {
      const int64_t off = v.offset(n, 0, h, x + o.shave);
      dst[x] = luma255(to255(base[off], mul, o.quantize), to255(base[off + v.sc], mul, o.quantize),
                       to255(base[off + 2 * v.sc], mul, o.quantize));
    } else {
      dst[x] = to255(base[v.offset(n, p, h, x + o.shave)], mul, o.quantize);
    }
  }
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
