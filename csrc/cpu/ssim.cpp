// Per-image sum of the SSIM map (Wang et al.: 11x11 Gaussian, sigma 1.5, 'valid' region) over the compared
// planes, in float64: each plane is converted once, then filtered separably (rows, then columns).
#include <vector>

#include "ops.h"
#include "protocol_rows.h"

namespace srkit {
namespace cpu {

at::Tensor ssim_sum(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize,
                    bool y_only, int64_t shave, const std::vector<double>& gauss) {
  TORCH_CHECK(sr.device().is_cpu() && hr.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(static_cast<int>(gauss.size()) == kSsimWin, "srkit: SSIM window must have ", kSsimWin, " taps");
  const View4 sv = view4(sr), hv = view4(hr);
  const MetricOpts o = metric_opts(sr_mul, hr_mul, quantize, y_only, shave);
  const int64_t K = kSsimWin;
  const int64_t hs = sv.h - 2 * shave, ws = sv.w - 2 * shave, planes = y_only ? 1 : sv.c;
  const int64_t ho = hs - (K - 1), wo = ws - (K - 1);
  TORCH_CHECK(ho >= 1 && wo >= 1, "srkit: SSIM needs at least ", K, "x", K, " pixels after shaving");
  const double* g = gauss.data();
  at::Tensor out = at::zeros({sv.n}, sr.options().dtype(at::kDouble));
  double* res = out.data_ptr<double>();
  std::vector<double> a(hs * ws), b(hs * ws), hsum(5 * hs * wo);
  for (int64_t n = 0; n < sv.n; ++n) {
    double acc = 0.0;
    for (int64_t p = 0; p < planes; ++p) {
#pragma omp parallel for schedule(static)
      for (int64_t y = 0; y < hs; ++y) {
        load_row(sr, sv, sr_mul, o, n, p, y + shave, &a[y * ws], ws);
        load_row(hr, hv, hr_mul, o, n, p, y + shave, &b[y * ws], ws);
        double* m1 = &hsum[(0 * hs + y) * wo];
        double* m2 = &hsum[(1 * hs + y) * wo];
        double* s11 = &hsum[(2 * hs + y) * wo];
        double* s22 = &hsum[(3 * hs + y) * wo];
        double* s12 = &hsum[(4 * hs + y) * wo];
        const double* ra = &a[y * ws];
        const double* rb = &b[y * ws];
        for (int64_t x = 0; x < wo; ++x) m1[x] = m2[x] = s11[x] = s22[x] = s12[x] = 0.0;
        for (int64_t j = 0; j < K; ++j) {
          const double gj = g[j];
          for (int64_t x = 0; x < wo; ++x) {
            const double va = ra[x + j], vb = rb[x + j];
            m1[x] += gj * va;
            m2[x] += gj * vb;
            s11[x] += gj * va * va;
            s22[x] += gj * vb * vb;
            s12[x] += gj * va * vb;
          }
        }
      }
      double plane_acc = 0.0;
#pragma omp parallel reduction(+ : plane_acc)
      {
        std::vector<double> v(5 * wo);
#pragma omp for schedule(static)
        for (int64_t y = 0; y < ho; ++y) {
          for (int64_t k = 0; k < 5 * wo; ++k) v[k] = 0.0;
          for (int64_t i = 0; i < K; ++i) {
            const double gi = g[i];
            for (int64_t q = 0; q < 5; ++q) {
              const double* src = &hsum[(q * hs + y + i) * wo];
              double* dst = &v[q * wo];
              for (int64_t x = 0; x < wo; ++x) dst[x] += gi * src[x];
            }
          }
          double row = 0.0;
          for (int64_t x = 0; x < wo; ++x)
            row += ssim_from_moments(v[x], v[wo + x], v[2 * wo + x], v[3 * wo + x], v[4 * wo + x]);
          plane_acc += row;
        }
      }
      acc += plane_acc;
    }
    res[n] = acc;
  }
  return out;
}

}  // namespace cpu
}  // namespace srkit
