// The C++ CPU implementations (OpenMP). Outputs are written into caller-allocated tensors.
#pragma once
#include <torch/extension.h>

#include <vector>

namespace srkit {
namespace cpu {

void pixel_shuffle(const at::Tensor& in, at::Tensor& out, int64_t r, bool shuffle);
void upsample_tail(const at::Tensor& x, const c10::optional<at::Tensor>& skip, const c10::optional<at::Tensor>& mean,
                   at::Tensor& out, int64_t r, c10::optional<double> lo, c10::optional<double> hi);
// Per-(n, c) mean and population std (two-pass) into contiguous (N, C) float32/float64 tensors.
void channel_stats(const at::Tensor& x, at::Tensor& mean, at::Tensor& stdv);
// out = x * s[n, c], s a contiguous (N, C) float32/float64 tensor.
void channel_scale(const at::Tensor& x, const at::Tensor& s, at::Tensor& out);
// WDSR-B's pointwise pair: out = W2 relu(W1 x + b1) + b2 per pixel; w1 (E, C), w2 (L, E) in x's dtype.
void wide_pointwise(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2,
                    const at::Tensor& b2, at::Tensor& out);
// A k x k conv with its epilogue: out = [residual + res_scale *] [relu](conv(x, w) [+ b]); w (CO, CI, k, k) in x's dtype.
void conv_epilogue(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                   const c10::optional<at::Tensor>& residual, double res_scale, bool relu, at::Tensor& out);
// Per-image sum of squared error and per-image sum of the SSIM map over the compared planes (float64 [N]).
at::Tensor sse(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize, bool y_only,
               int64_t shave);
at::Tensor ssim_sum(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize,
                    bool y_only, int64_t shave, const std::vector<double>& gauss);
// Both at once, from one read of the images (the evaluation protocol needs both).
std::vector<at::Tensor> sse_and_ssim_sum(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul,
                                         bool quantize, bool y_only, int64_t shave, const std::vector<double>& gauss);

}  // namespace cpu
}  // namespace srkit
