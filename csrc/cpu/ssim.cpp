// Per-image sum of the SSIM map (Wang et al.: 11x11 Gaussian, sigma 1.5, 'valid' region) over the compared
// planes, in float64. Each thread takes a strip of output rows, converts the strip's input rows (plus
// the window's 10-row halo) once, filters them separably (rows, then columns) in cache-sized buffers.
#include <algorithm>
#include <vector>

#include "ops.h"
#include "protocol_rows.h"
#include "simd.h"

namespace srkit {
namespace cpu {
namespace {

constexpr int64_t kStrip = 32;  // output rows per task

struct Moments {  // horizontal sums of one strip: 5 quantities x rows x wo
  std::vector<double> a, b, h;
};

// Horizontal pass of one row: m[q][x] = sum_j g[j] f_q[x + j] for f = a, b, a^2, b^2, ab
// (`prod` is scratch for the three products, computed once per pixel rather than once per tap).
SRKIT_CPU_CLONES void filter_row(const double* __restrict__ ra, const double* __restrict__ rb, const double* g,
                                 int64_t ws, double* __restrict__ prod, double* __restrict__ out, int64_t stride) {
  const int64_t wo = ws - (kSsimWin - 1);
  double* __restrict__ aa = prod;
  double* __restrict__ bb = prod + ws;
  double* __restrict__ ab = prod + 2 * ws;
  for (int64_t x = 0; x < ws; ++x) {
    aa[x] = ra[x] * ra[x];
    bb[x] = rb[x] * rb[x];
    ab[x] = ra[x] * rb[x];
  }
  const double* src[5] = {ra, rb, aa, bb, ab};
  for (int q = 0; q < 5; ++q) {
    const double* __restrict__ f = src[q];
    double* __restrict__ m = out + q * stride;
    for (int64_t x = 0; x < wo; ++x) {
      double acc = 0.0;
#pragma GCC unroll 11
      for (int64_t j = 0; j < kSsimWin; ++j) acc += g[j] * f[x + j];
      m[x] = acc;
    }
  }
}

// Vertical pass and SSIM of one output row from the strip's horizontal sums.
SRKIT_CPU_CLONES double ssim_row(const double* __restrict__ h, int64_t rows, int64_t y, const double* g,
                                 int64_t wo, double* __restrict__ acc) {
  for (int64_t k = 0; k < 5 * wo; ++k) acc[k] = 0.0;
  for (int64_t i = 0; i < kSsimWin; ++i) {
    const double gi = g[i];
    for (int64_t q = 0; q < 5; ++q) {
      const double* __restrict__ src = h + (q * rows + y + i) * wo;
      double* __restrict__ dst = acc + q * wo;
      for (int64_t x = 0; x < wo; ++x) dst[x] += gi * src[x];
    }
  }
  double row = 0.0;
  for (int64_t x = 0; x < wo; ++x)
    row += ssim_from_moments(acc[x], acc[wo + x], acc[2 * wo + x], acc[3 * wo + x], acc[4 * wo + x]);
  return row;
}

}  // namespace

namespace {

// The strip loop behind ssim_sum and psnr_ssim: per image, the SSIM-map sum and (optionally) the
// sum of squared error, the latter from the rows the SSIM pass has already converted.
std::pair<at::Tensor, at::Tensor> strips(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul,
                                         bool quantize, bool y_only, int64_t shave, const std::vector<double>& gauss,
                                         bool want_sse) {
  TORCH_CHECK(sr.device().is_cpu() && hr.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(static_cast<int>(gauss.size()) == kSsimWin, "srkit: SSIM window must have ", kSsimWin, " taps");
  const View4 sv = view4(sr), hv = view4(hr);
  const MetricOpts o = metric_opts(sr_mul, hr_mul, quantize, y_only, shave);
  const int64_t K = kSsimWin;
  const int64_t ws = sv.w - 2 * shave, planes = y_only ? 1 : sv.c;
  const int64_t ho = sv.h - 2 * shave - (K - 1), wo = ws - (K - 1);
  TORCH_CHECK(ho >= 1 && wo >= 1, "srkit: SSIM needs at least ", K, "x", K, " pixels after shaving");
  const double* g = gauss.data();
  const int64_t n_strips = (ho + kStrip - 1) / kStrip;
  const int64_t tasks = sv.n * planes * n_strips;
  std::vector<double> ssim_part(tasks, 0.0), sse_part(tasks, 0.0);
#pragma omp parallel
  {
    const int64_t max_rows = kStrip + K - 1;
    std::vector<double> a(max_rows * ws), b(max_rows * ws), h(5 * max_rows * wo), acc(5 * wo), prod(3 * ws);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t s = t % n_strips, p = (t / n_strips) % planes, n = t / (n_strips * planes);
      const int64_t y0 = s * kStrip, y1 = std::min(ho, y0 + kStrip);
      const int64_t rows = (y1 - y0) + K - 1;  // input rows this strip reads
      // rows whose squared error this strip owns: its own, and the window's tail for the last strip
      const int64_t sse_rows = s == n_strips - 1 ? rows : y1 - y0;
      double sse = 0.0;
      for (int64_t r = 0; r < rows; ++r) {
        const double* ra = &a[r * ws];
        const double* rb = &b[r * ws];
        load_row(sr, sv, sr_mul, o, n, p, y0 + r + shave, &a[r * ws], ws);
        load_row(hr, hv, hr_mul, o, n, p, y0 + r + shave, &b[r * ws], ws);
        if (want_sse && r < sse_rows)
          for (int64_t x = 0; x < ws; ++x) sse += (ra[x] - rb[x]) * (ra[x] - rb[x]);
        filter_row(ra, rb, g, ws, prod.data(), &h[r * wo], rows * wo);
      }
      double sum = 0.0;
      for (int64_t y = 0; y < y1 - y0; ++y) sum += ssim_row(h.data(), rows, y, g, wo, acc.data());
      ssim_part[t] = sum;
      sse_part[t] = sse;
    }
  }
  at::Tensor ssim_out = at::zeros({sv.n}, sr.options().dtype(at::kDouble));
  at::Tensor sse_out = at::zeros({sv.n}, sr.options().dtype(at::kDouble));
  double* rs = ssim_out.data_ptr<double>();
  double* re = sse_out.data_ptr<double>();
  for (int64_t t = 0; t < tasks; ++t) {  // fixed order: deterministic
    rs[t / (n_strips * planes)] += ssim_part[t];
    re[t / (n_strips * planes)] += sse_part[t];
  }
  return {sse_out, ssim_out};
}

}  // namespace

at::Tensor ssim_sum(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize,
                    bool y_only, int64_t shave, const std::vector<double>& gauss) {
  return strips(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, gauss, false).second;
}

std::vector<at::Tensor> sse_and_ssim_sum(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul,
                                         bool quantize, bool y_only, int64_t shave, const std::vector<double>& gauss) {
  auto res = strips(sr, hr, sr_mul, hr_mul, quantize, y_only, shave, gauss, true);
  return {res.first, res.second};
}

}  // namespace cpu
}  // namespace srkit
