// A k x k convolution with its epilogue fused, on the CPU:
// out = [residual + res_scale *] [relu](conv(x, w) + b), 'same' zero padding, stride 1, odd k.
// One output row (n, h) per task: its [W, CO] accumulator lives in a per-thread buffer, each input
// value is multiplied into a unit-stride row of the (k, k, CI, CO) weights, and the epilogue runs on
// the accumulator before the single store. Arithmetic in the op-math type (float for
// half/bfloat16/float, double for double).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include <algorithm>
#include <vector>

#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {

namespace {

template <typename T>
void conv_rows(const T* xp, const View4& xv, const at::opmath_type<T>* wt, const at::opmath_type<T>* bias, int64_t K,
               const T* rp, const View4& rv, double res_scale, bool relu, T* op, const View4& ov) {
  using A = at::opmath_type<T>;
  const int64_t CI = xv.c, CO = ov.c, H = xv.h, W = xv.w, pad = K / 2;
  const A scale = static_cast<A>(res_scale);
#pragma omp parallel
  {
    std::vector<A> acc(W * CO);
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < xv.n; ++n)
      for (int64_t h = 0; h < H; ++h) {
        if (bias)
          for (int64_t w = 0; w < W; ++w) std::copy(bias, bias + CO, acc.data() + w * CO);
        else
          std::fill(acc.begin(), acc.end(), A(0));
        for (int64_t kh = 0; kh < K; ++kh) {
          const int64_t ih = h + kh - pad;
          if (ih < 0 || ih >= H) continue;
          for (int64_t kw = 0; kw < K; ++kw) {
            const int64_t shift = kw - pad, w0 = std::max<int64_t>(0, -shift), w1 = std::min(W, W - shift);
            for (int64_t ci = 0; ci < CI; ++ci) {
              const T* src = xp + n * xv.sn + ci * xv.sc + ih * xv.sh;
              const A* wrow = wt + ((kh * K + kw) * CI + ci) * CO;
              for (int64_t w = w0; w < w1; ++w) {
                const A v = static_cast<A>(src[(w + shift) * xv.sw]);
                if (v == A(0)) continue;  // zeros are common after a ReLU
                A* arow = acc.data() + w * CO;
#pragma omp simd
                for (int64_t co = 0; co < CO; ++co) arow[co] += v * wrow[co];
              }
            }
          }
        }
        for (int64_t w = 0; w < W; ++w) {
          const A* arow = acc.data() + w * CO;
          T* dst = op + n * ov.sn + h * ov.sh + w * ov.sw;
          const T* res = rp ? rp + n * rv.sn + h * rv.sh + w * rv.sw : nullptr;
          for (int64_t co = 0; co < CO; ++co) {
            A v = arow[co];
            if (relu) v = v > A(0) ? v : A(0);
            if (res) v = static_cast<A>(res[co * rv.sc]) + scale * v;
            dst[co * ov.sc] = static_cast<T>(v);
          }
        }
      }
  }
}

}  // namespace

void conv_epilogue(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                   const c10::optional<at::Tensor>& residual, double res_scale, bool relu, at::Tensor& out) {
  TORCH_CHECK(x.device().is_cpu() && out.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(out.scalar_type() == x.scalar_type(), "srkit: conv_epilogue output dtype must equal x's");
  TORCH_CHECK(w.dim() == 4 && w.size(1) == x.size(1) && w.size(2) == w.size(3) && w.size(2) % 2 == 1 &&
                  w.size(0) == out.size(1) && (!b || b->numel() == w.size(0)),
              "srkit: conv_epilogue weight must be (CO, CI, k, k) with odd k and match x, b and out");
  const View4 xv = view4(x), ov = view4(out);
  TORCH_CHECK(ov.n == xv.n && ov.h == xv.h && ov.w == xv.w, "srkit: conv_epilogue output must be (N, CO, H, W)");
  View4 rv{};
  if (residual) {
    TORCH_CHECK(residual->scalar_type() == x.scalar_type() && residual->sizes() == out.sizes(),
                "srkit: conv_epilogue residual must have the output's shape and dtype");
    rv = view4(*residual);
  }
  if (out.numel() == 0) return;
  const auto acc = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor wt = w.to(acc).permute({2, 3, 1, 0}).contiguous();
  const c10::optional<at::Tensor> ba = b ? c10::optional<at::Tensor>(b->to(acc).contiguous()) : c10::nullopt;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "srkit_conv_epilogue_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    conv_rows<scalar_t>(x.const_data_ptr<scalar_t>(), xv, wt.const_data_ptr<A>(), ba ? ba->const_data_ptr<A>() : nullptr, w.size(2),
                        residual ? residual->const_data_ptr<scalar_t>() : nullptr, rv, res_scale, relu,
                        out.mutable_data_ptr<scalar_t>(), ov);
  });
}

}  // namespace cpu
}  // namespace srkit
