// Turning torch tensors into the kernels' plain views (used by the CPU and CUDA bindings only).
#pragma once
#include <torch/extension.h>

#include "common.h"

namespace srkit {

inline View4 view4(const at::Tensor& t) {
  TORCH_CHECK(t.dim() == 4, "srkit: expected a 4-D (N, C, H, W) tensor, got ", t.dim(), " dimensions");
  return View4{t.size(0), t.size(1), t.size(2), t.size(3), t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
}

inline DType dtype_of(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kByte: return DType::U8;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kFloat: return DType::F32;
    case at::kDouble: return DType::F64;
    default: TORCH_CHECK(false, "srkit: unsupported dtype ", t.scalar_type(), " (uint8, float16, bfloat16, float32, float64)");
  }
}

inline MetricOpts metric_opts(double sr_mul, double hr_mul, bool quantize, bool y_only, int64_t shave) {
  return MetricOpts{sr_mul, hr_mul, quantize, y_only, shave};
}

}  // namespace srkit
