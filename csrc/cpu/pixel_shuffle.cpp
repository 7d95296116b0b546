// pixel_shuffle / pixel_unshuffle on the CPU: a strided gather of raw elements (bit-exact for every dtype).
// Loops are arranged so that no integer division is left in the inner loops.
#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {
namespace {

// kUnit: both rows are contiguous (width stride 1), which lets the compiler vectorise the interleave.
template <bool kUnit, typename T>
void shuffle(const T* in, const View4& iv, T* out, const View4& ov, int64_t r) {
  const int64_t w_in = ov.w / r;
  const int64_t isw = kUnit ? 1 : iv.sw, osw = kUnit ? 1 : ov.sw;
  if (ov.sc == 1 && ov.c > 1) {  // channels_last output: (ow, c) innermost, stores contiguous
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < ov.n; ++n)
      for (int64_t oh = 0; oh < ov.h; ++oh) {
        const int64_t i = oh % r, ih = oh / r;
        for (int64_t iw = 0; iw < w_in; ++iw)
          for (int64_t j = 0; j < r; ++j) {
            const T* src = in + n * iv.sn + (i * r + j) * iv.sc + ih * iv.sh + iw * iv.sw;
            T* dst = out + n * ov.sn + oh * ov.sh + (iw * r + j) * ov.sw;
            for (int64_t c = 0; c < ov.c; ++c) dst[c * ov.sc] = src[c * r * r * iv.sc];
          }
      }
    return;
  }
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < ov.c; ++c)
      for (int64_t oh = 0; oh < ov.h; ++oh) {
        const int64_t i = oh % r, ih = oh / r;
        const T* src = in + n * iv.sn + (c * r * r + i * r) * iv.sc + ih * iv.sh;
        T* dst = out + n * ov.sn + c * ov.sc + oh * ov.sh;
        for (int64_t j = 0; j < r; ++j) {
          const T* s = src + j * iv.sc;
          for (int64_t iw = 0; iw < w_in; ++iw) dst[(iw * r + j) * osw] = s[iw * isw];
        }
      }
}

template <bool kUnit, typename T>
void unshuffle(const T* in, const View4& iv, T* out, const View4& ov, int64_t r) {
  const int64_t c_in = iv.c;
  const int64_t isw = kUnit ? 1 : iv.sw, osw = kUnit ? 1 : ov.sw;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t oh = 0; oh < ov.h; ++oh)
        for (int64_t i = 0; i < r; ++i)
          for (int64_t j = 0; j < r; ++j) {
            const int64_t oc = (c * r + i) * r + j;
            const T* src = in + n * iv.sn + c * iv.sc + (oh * r + i) * iv.sh + j * isw;
            T* dst = out + n * ov.sn + oc * ov.sc + oh * ov.sh;
            for (int64_t ow = 0; ow < ov.w; ++ow) dst[ow * osw] = src[ow * r * isw];
          }
}

template <typename T>
void run(const at::Tensor& in, at::Tensor& out, int64_t r, bool do_shuffle) {
  const T* ip = static_cast<const T*>(in.const_data_ptr());
  T* op = static_cast<T*>(out.data_ptr());
  const View4 iv = view4(in), ov = view4(out);
  const bool unit = iv.sw == 1 && ov.sw == 1;
  if (do_shuffle)
    unit ? shuffle<true>(ip, iv, op, ov, r) : shuffle<false>(ip, iv, op, ov, r);
  else
    unit ? unshuffle<true>(ip, iv, op, ov, r) : unshuffle<false>(ip, iv, op, ov, r);
}

}  // namespace

void pixel_shuffle(const at::Tensor& in, at::Tensor& out, int64_t r, bool do_shuffle) {
  TORCH_CHECK(in.device().is_cpu() && out.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(in.scalar_type() == out.scalar_type(), "srkit: pixel_shuffle output dtype must equal the input's");
  switch (in.element_size()) {
    case 1: return run<uint8_t>(in, out, r, do_shuffle);
    case 2: return run<uint16_t>(in, out, r, do_shuffle);
    case 4: return run<uint32_t>(in, out, r, do_shuffle);
    case 8: return run<uint64_t>(in, out, r, do_shuffle);
    default: TORCH_CHECK(false, "srkit: pixel_shuffle: unsupported element size ", in.element_size());
  }
}

}  // namespace cpu
}  // namespace srkit
