// WDSR-B's pointwise pair on the CPU: out = W2 relu(W1 x + b1) + b2 per pixel.
// Pixels are taken in tiles; a tile's wide activation (TILE x E) lives in a per-thread buffer and
// is consumed at once, so it never reaches the output tensor's memory traffic. Arithmetic in the
// op-math type (float for half/bfloat16/float, double for double); the wide activation is rounded to
// the input's dtype before the second product, as the GPU kernels and cuDNN do.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include <algorithm>
#include <vector>

#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {

namespace {

constexpr int64_t TILE = 32;

template <typename T>
void pointwise(const T* xp, const View4& xv, const at::opmath_type<T>* w1t, const at::opmath_type<T>* b1,
               const at::opmath_type<T>* w2t, const at::opmath_type<T>* b2, int64_t E, T* op, const View4& ov) {
  using A = at::opmath_type<T>;
  const int64_t C = xv.c, L = ov.c, HW = xv.h * xv.w, tiles = (HW + TILE - 1) / TILE;
#pragma omp parallel
  {
    std::vector<A> xs(TILE * C), hid(TILE * E), acc(TILE * L);
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < xv.n; ++n)
      for (int64_t t = 0; t < tiles; ++t) {
        const int64_t p0 = t * TILE, np = std::min(TILE, HW - p0);
        for (int64_t i = 0; i < np; ++i) {
          const int64_t h = (p0 + i) / xv.w, w = (p0 + i) % xv.w;
          const T* src = xp + n * xv.sn + h * xv.sh + w * xv.sw;
          for (int64_t c = 0; c < C; ++c) xs[i * C + c] = static_cast<A>(src[c * xv.sc]);
        }
        for (int64_t i = 0; i < np; ++i) {  // hid[i, :] = round_T(relu(b1 + sum_c x[i, c] W1T[c, :]))
          A* hrow = hid.data() + i * E;
          for (int64_t e = 0; e < E; ++e) hrow[e] = b1[e];
          for (int64_t c = 0; c < C; ++c) {
            const A v = xs[i * C + c];
            const A* wrow = w1t + c * E;
#pragma omp simd
            for (int64_t e = 0; e < E; ++e) hrow[e] += v * wrow[e];
          }
          for (int64_t e = 0; e < E; ++e) hrow[e] = hrow[e] > A(0) ? static_cast<A>(static_cast<T>(hrow[e])) : A(0);
        }
        for (int64_t i = 0; i < np; ++i) {  // out[i, :] = b2 + sum_e hid[i, e] W2T[e, :]
          A* arow = acc.data() + i * L;
          for (int64_t l = 0; l < L; ++l) arow[l] = b2[l];
          const A* hrow = hid.data() + i * E;
          for (int64_t e = 0; e < E; ++e) {
            const A v = hrow[e];
            if (v == A(0)) continue;  // ReLU zeros: most of a trained block's wide activation
            const A* wrow = w2t + e * L;
#pragma omp simd
            for (int64_t l = 0; l < L; ++l) arow[l] += v * wrow[l];
          }
          const int64_t h = (p0 + i) / ov.w, w = (p0 + i) % ov.w;
          T* dst = op + n * ov.sn + h * ov.sh + w * ov.sw;
          for (int64_t l = 0; l < L; ++l) dst[l * ov.sc] = static_cast<T>(arow[l]);
        }
      }
  }
}

}  // namespace

void wide_pointwise(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2,
                    const at::Tensor& b2, at::Tensor& out) {
  TORCH_CHECK(x.device().is_cpu() && out.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(out.scalar_type() == x.scalar_type(), "srkit: wide_pointwise output dtype must equal x's");
  TORCH_CHECK(w1.dim() == 2 && w2.dim() == 2 && w1.size(1) == x.size(1) && w2.size(1) == w1.size(0) &&
                  w2.size(0) == out.size(1) && b1.numel() == w1.size(0) && b2.numel() == w2.size(0),
              "srkit: wide_pointwise weights do not chain");
  const View4 xv = view4(x), ov = view4(out);
  if (out.numel() == 0) return;
  const int64_t E = w1.size(0);
  // weights, already rounded to x's dtype by the caller, in the op-math type, transposed for unit-stride rows
  const auto acc = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor w1t = w1.to(acc).t().contiguous(), w2t = w2.to(acc).t().contiguous();
  const at::Tensor b1a = b1.to(acc).contiguous(), b2a = b2.to(acc).contiguous();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "srkit_wide_pointwise_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    pointwise<scalar_t>(x.const_data_ptr<scalar_t>(), xv, w1t.const_data_ptr<A>(), b1a.const_data_ptr<A>(),
                        w2t.const_data_ptr<A>(), b2a.const_data_ptr<A>(), E, out.mutable_data_ptr<scalar_t>(), ov);
  });
}

}  // namespace cpu
}  // namespace srkit
