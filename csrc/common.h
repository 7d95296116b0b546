// Plain-C++ declarations shared by the CPU kernels, the CUDA kernels and the torch bindings.
// This header must stay free of torch so that `nvcc -c csrc/cuda/*.cu` compiles anywhere.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define SRKIT_HD __host__ __device__ __forceinline__
#else
#define SRKIT_HD inline
#endif

namespace srkit {

// Element types the kernels read. Values match nothing in torch on purpose: the bindings map them.
enum class DType : int32_t { U8 = 0, F16 = 1, BF16 = 2, F32 = 3, F64 = 4 };

// A 4-D tensor view: sizes and strides in elements (any layout: NCHW, channels_last, strided).
struct View4 {
  int64_t n, c, h, w;
  int64_t sn, sc, sh, sw;
  SRKIT_HD int64_t offset(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return in * sn + ic * sc + ih * sh + iw * sw;
  }
};

// Where output element (n, c, oh, ow) of pixel_shuffle / pixel_unshuffle reads from.
struct ShuffleMap {
  int64_t r;
  bool shuffle;  // true: pixel_shuffle, false: pixel_unshuffle
  SRKIT_HD void source(int64_t c, int64_t oh, int64_t ow, int64_t& ic, int64_t& ih, int64_t& iw) const {
    if (shuffle) {
      ic = c * r * r + (oh % r) * r + (ow % r);
      ih = oh / r;
      iw = ow / r;
    } else {
      ic = c / (r * r);
      ih = oh * r + (c / r) % r;
      iw = ow * r + c % r;
    }
  }
};

// Options of the fused upsampling tail: out = clamp(pixel_shuffle(x) [+ skip] [+ mean[c]]).
struct TailOpts {
  int64_t r;
  bool has_skip, has_mean, has_clamp;
  double lo, hi;
};

// The evaluation protocol's per-pixel preprocessing, shared by PSNR and SSIM.
struct MetricOpts {
  double sr_mul, hr_mul;  // multiply to reach the 0..255 scale
  bool quantize;          // round half away from zero and saturate to [0, 255] (MATLAB im2uint8)
  bool y_only;            // MATLAB rgb2ycbcr luma on the 0..255 scale (3-channel inputs only)
  int64_t shave;          // pixels cropped from every border
};

SRKIT_HD double to255(double v, double mul, bool quantize) {
  v *= mul;
  if (quantize && v == v) {  // NaN stays NaN (and is reported by the caller)
    v = v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v);
    v = static_cast<double>(static_cast<int64_t>(v + 0.5));  // non-negative: floor(v + 0.5)
  }
  return v;
}

// BT.601 luma exactly as MATLAB's rgb2ycbcr computes it for double input, rescaled to 0..255.
SRKIT_HD double luma255(double r, double g, double b) {
  return 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
}

// Wang et al.'s SSIM for one window from its Gaussian-weighted moments (dynamic range 255).
SRKIT_HD double ssim_from_moments(double mu1, double mu2, double s11, double s22, double s12) {
  const double C1 = (0.01 * 255.0) * (0.01 * 255.0);
  const double C2 = (0.03 * 255.0) * (0.03 * 255.0);
  const double mu1_sq = mu1 * mu1, mu2_sq = mu2 * mu2, mu12 = mu1 * mu2;
  const double num = (2.0 * mu12 + C1) * (2.0 * (s12 - mu12) + C2);
  const double den = (mu1_sq + mu2_sq + C1) * ((s11 - mu1_sq) + (s22 - mu2_sq) + C2);
  return num / den;
}

constexpr int kSsimWin = 11;  // 11x11 Gaussian window, sigma 1.5

}  // namespace srkit
