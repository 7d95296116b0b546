// pixel_shuffle / pixel_unshuffle on the CPU: a strided gather of raw elements (bit-exact for every dtype).
#include "ops.h"

#include "../torch_views.h"

namespace srkit {
namespace cpu {
namespace {

template <typename T>
void gather(const T* in, const View4& iv, T* out, const View4& ov, const ShuffleMap& map) {
  if (ov.sc == 1 && ov.c > 1) {  // channels_last output: walk (ow, c) so stores are contiguous
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < ov.n; ++n)
      for (int64_t oh = 0; oh < ov.h; ++oh)
        for (int64_t ow = 0; ow < ov.w; ++ow)
          for (int64_t c = 0; c < ov.c; ++c) {
            int64_t ic, ih, iw;
            map.source(c, oh, ow, ic, ih, iw);
            out[ov.offset(n, c, oh, ow)] = in[iv.offset(n, ic, ih, iw)];
          }
    return;
  }
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t n = 0; n < ov.n; ++n)
    for (int64_t c = 0; c < ov.c; ++c)
      for (int64_t oh = 0; oh < ov.h; ++oh)
        for (int64_t ow = 0; ow < ov.w; ++ow) {
          int64_t ic, ih, iw;
          map.source(c, oh, ow, ic, ih, iw);
          out[ov.offset(n, c, oh, ow)] = in[iv.offset(n, ic, ih, iw)];
        }
}

}  // namespace

void pixel_shuffle(const at::Tensor& in, at::Tensor& out, int64_t r, bool shuffle) {
  TORCH_CHECK(in.device().is_cpu() && out.device().is_cpu(), "srkit cpp backend: tensors must be on the CPU");
  TORCH_CHECK(in.scalar_type() == out.scalar_type(), "srkit: pixel_shuffle output dtype must equal the input's");
  const View4 iv = view4(in), ov = view4(out);
  const ShuffleMap map{r, shuffle};
  switch (in.element_size()) {
    case 1: gather(static_cast<const uint8_t*>(in.data_ptr()), iv, static_cast<uint8_t*>(out.data_ptr()), ov, map); break;
    case 2: gather(static_cast<const uint16_t*>(in.data_ptr()), iv, static_cast<uint16_t*>(out.data_ptr()), ov, map); break;
    case 4: gather(static_cast<const uint32_t*>(in.data_ptr()), iv, static_cast<uint32_t*>(out.data_ptr()), ov, map); break;
    case 8: gather(static_cast<const uint64_t*>(in.data_ptr()), iv, static_cast<uint64_t*>(out.data_ptr()), ov, map); break;
    default: TORCH_CHECK(false, "srkit: pixel_shuffle: unsupported element size ", in.element_size());
  }
}

}  // namespace cpu
}  // namespace srkit
