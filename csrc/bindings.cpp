// The Python module srkit._C: the CPU kernels always, the CUDA kernels when built with them.
#include <torch/extension.h>

#include "cpu/ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef SRKIT_WITH_CUDA
namespace srkit {
void register_cuda(pybind11::module_& m);
}
#endif

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "srkit C++/CUDA kernels";
  m.def("built_with_cuda", []() {
#ifdef SRKIT_WITH_CUDA
    return true;
#else
    return false;
#endif
  });
  m.def("openmp_threads", []() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  });
  m.def("pixel_shuffle_cpu", &srkit::cpu::pixel_shuffle, "pixel_shuffle/unshuffle into `out`", pybind11::arg("input"),
        pybind11::arg("out"), pybind11::arg("r"), pybind11::arg("shuffle"));
  m.def("upsample_tail_cpu", &srkit::cpu::upsample_tail, "fused sub-pixel tail into `out`", pybind11::arg("x"),
        pybind11::arg("skip"), pybind11::arg("mean"), pybind11::arg("out"), pybind11::arg("r"), pybind11::arg("lo"),
        pybind11::arg("hi"));
  m.def("channel_stats_cpu", &srkit::cpu::channel_stats, "per-(n, c) mean and population std into outputs");
  m.def("channel_scale_cpu", &srkit::cpu::channel_scale, "x * s[n, c] into `out`");
  m.def("wide_pointwise_cpu", &srkit::cpu::wide_pointwise, "W2 relu(W1 x + b1) + b2 per pixel into `out`");
  m.def("conv_epilogue_cpu", &srkit::cpu::conv_epilogue, "[residual + res_scale *] [relu](conv(x, w) + b) into `out`",
        pybind11::arg("x"), pybind11::arg("w"), pybind11::arg("b"), pybind11::arg("residual"), pybind11::arg("res_scale"),
        pybind11::arg("relu"), pybind11::arg("out"));
  m.def("psnr_cpu", &srkit::cpu::sse, "per-image sum of squared error (float64)");
  m.def("ssim_cpu", &srkit::cpu::ssim_sum, "per-image sum of the SSIM map (float64)");
  m.def("psnr_ssim_cpu", &srkit::cpu::sse_and_ssim_sum, "both, from one read of the images");
#ifdef SRKIT_WITH_CUDA
  srkit::register_cuda(m);
#endif
}
