// Torch bindings of the CUDA kernels (compiled by the host compiler; the kernels live in csrc/cuda/*.cu).
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/extension.h>

#include <vector>

#include "cuda/launchers.h"
#include "torch_views.h"

namespace srkit {
namespace {

void check(int err, const char* what) {
  TORCH_CHECK(err == 0, "srkit: CUDA kernel ", what, " failed: ", cudaGetErrorString(static_cast<cudaError_t>(err)));
}

void check_cuda(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.is_cuda(), "srkit cuda backend: ", name, " must be a CUDA tensor, got ", t.device());
}

void pixel_shuffle_cuda(const at::Tensor& in, at::Tensor& out, int64_t r, bool shuffle) {
  check_cuda(in, "input");
  check_cuda(out, "out");
  c10::cuda::CUDAGuard guard(in.device());
  check(cuda::pixel_shuffle(in.const_data_ptr(), view4(in), out.data_ptr(), view4(out), ShuffleMap{r, shuffle},
                            static_cast<int>(in.element_size()), at::cuda::getCurrentCUDAStream()),
        "pixel_shuffle");
}

void upsample_tail_cuda(const at::Tensor& x, const c10::optional<at::Tensor>& skip,
                        const c10::optional<at::Tensor>& mean, at::Tensor& out, int64_t r, c10::optional<double> lo,
                        c10::optional<double> hi) {
  check_cuda(x, "x");
  check_cuda(out, "out");
  c10::cuda::CUDAGuard guard(x.device());
  at::Tensor mean32;
  if (mean.has_value()) mean32 = mean->to(x.device(), at::kFloat).contiguous();
  const View4 ov = view4(out);
  TailOpts o{r, skip.has_value(), mean.has_value(), lo.has_value() || hi.has_value(),
             lo.has_value() ? *lo : -INFINITY, hi.has_value() ? *hi : INFINITY};
  check(cuda::upsample_tail(x.const_data_ptr(), view4(x), skip ? skip->const_data_ptr() : nullptr,
                            skip ? view4(*skip) : ov, mean ? mean32.const_data_ptr<float>() : nullptr,
                            out.data_ptr(), ov, dtype_of(x), o, at::cuda::getCurrentCUDAStream()),
        "upsample_tail");
}

void channel_stats_cuda(const at::Tensor& x, at::Tensor& mean, at::Tensor& stdv) {
  check_cuda(x, "x");
  c10::cuda::CUDAGuard guard(x.device());
  TORCH_CHECK(mean.is_contiguous() && stdv.is_contiguous(), "srkit: channel_stats outputs must be contiguous");
  check(cuda::channel_stats(x.const_data_ptr(), view4(x), dtype_of(x), mean.data_ptr(), stdv.data_ptr(),
                            at::cuda::getCurrentCUDAStream()),
        "channel_stats");
}

void channel_scale_cuda(const at::Tensor& x, const at::Tensor& s, at::Tensor& out) {
  check_cuda(x, "x");
  check_cuda(out, "out");
  c10::cuda::CUDAGuard guard(x.device());
  check(cuda::channel_scale(x.const_data_ptr(), view4(x), dtype_of(x), s.const_data_ptr(), out.data_ptr(), view4(out),
                            at::cuda::getCurrentCUDAStream()),
        "channel_scale");
}

at::Tensor psnr_cuda(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize,
                    bool y_only, int64_t shave) {
  check_cuda(sr, "sr");
  check_cuda(hr, "hr");
  c10::cuda::CUDAGuard guard(sr.device());
  const MetricOpts o = metric_opts(sr_mul, hr_mul, quantize, y_only, shave);
  const View4 sv = view4(sr);
  const int64_t blocks = cuda::psnr_blocks_per_image(sv, o);
  at::Tensor partial = at::empty({sv.n, blocks}, sr.options().dtype(at::kDouble));
  check(cuda::psnr_partials(sr.const_data_ptr(), dtype_of(sr), sv, hr.const_data_ptr(), dtype_of(hr), view4(hr), o,
                            partial.data_ptr<double>(), blocks, at::cuda::getCurrentCUDAStream()),
        "psnr");
  return partial.sum(1);
}

at::Tensor ssim_cuda(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize,
                         bool y_only, int64_t shave, const std::vector<double>& gauss) {
  check_cuda(sr, "sr");
  check_cuda(hr, "hr");
  TORCH_CHECK(static_cast<int>(gauss.size()) == kSsimWin, "srkit: SSIM window must have ", kSsimWin, " taps");
  c10::cuda::CUDAGuard guard(sr.device());
  const MetricOpts o = metric_opts(sr_mul, hr_mul, quantize, y_only, shave);
  const View4 sv = view4(sr);
  const int64_t tiles = cuda::ssim_tiles_per_image(sv, o);
  at::Tensor partial = at::empty({sv.n, tiles}, sr.options().dtype(at::kDouble));
  check(cuda::ssim_partials(sr.const_data_ptr(), dtype_of(sr), sv, hr.const_data_ptr(), dtype_of(hr), view4(hr), o,
                            gauss.data(), partial.data_ptr<double>(), at::cuda::getCurrentCUDAStream()),
        "ssim");
  return partial.sum(1);
}

}  // namespace

void register_cuda(pybind11::module_& m) {
  m.def("pixel_shuffle_cuda", &pixel_shuffle_cuda);
  m.def("upsample_tail_cuda", &upsample_tail_cuda);
  m.def("channel_stats_cuda", &channel_stats_cuda);
  m.def("channel_scale_cuda", &channel_scale_cuda);
  m.def("psnr_cuda", &psnr_cuda);
  m.def("ssim_cuda", &ssim_cuda);
}

}  // namespace srkit
