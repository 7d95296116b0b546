// Per-image sum of squared error on the protocol's 0..255 scale, accumulated in float64 (PSNR's core).
// One parallel loop over fixed chunks of rows of every image; chunk sums are added in a fixed order.
#include <algorithm>
#include <vector>

#include "ops.h"
#include "protocol_rows.h"

namespace srkit {
namespace cpu {

at::Tensor sse(const at::Tensor& sr, const at::Tensor& hr, double sr_mul, double hr_mul, bool quantize, bool y_only,
               int64_t shave) {
  TORCH_CHECK(sr.device().is_cpu() && hr.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  const View4 sv = view4(sr), hv = view4(hr);
  const MetricOpts o = metric_opts(sr_mul, hr_mul, quantize, y_only, shave);
  const int64_t hs = sv.h - 2 * shave, ws = sv.w - 2 * shave, planes = y_only ? 1 : sv.c;
  const int64_t rows = planes * hs, chunk = 16, chunks = (rows + chunk - 1) / chunk;
  std::vector<double> partial(sv.n * chunks, 0.0);
#pragma omp parallel
  {
    std::vector<double> a(ws), b(ws);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < sv.n * chunks; ++t) {
      const int64_t n = t / chunks, r0 = (t % chunks) * chunk, r1 = std::min(rows, r0 + chunk);
      double acc = 0.0;
      for (int64_t pr = r0; pr < r1; ++pr) {
        const int64_t p = pr / hs, h = pr % hs + shave;
        load_row(sr, sv, sr_mul, o, n, p, h, a.data(), ws);
        load_row(hr, hv, hr_mul, o, n, p, h, b.data(), ws);
        for (int64_t x = 0; x < ws; ++x) acc += (a[x] - b[x]) * (a[x] - b[x]);
      }
      partial[t] = acc;
    }
  }
  at::Tensor out = at::zeros({sv.n}, sr.options().dtype(at::kDouble));
  double* res = out.data_ptr<double>();
  for (int64_t t = 0; t < sv.n * chunks; ++t) res[t / chunks] += partial[t];
  return out;
}

}  // namespace cpu
}  // namespace srkit
