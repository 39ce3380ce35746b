#include "gemm_panels_f32.h"

#include <algorithm>

namespace tt {

void PackXPanelsF32(const float* x, int64_t lda, int64_t m, int64_t k, int lanes, int64_t g0, int64_t g1, float* out) {
  // k in blocks of 64, so the `lanes` source rows being read stay in L1 while their columns interleave.
  constexpr int64_t kStrip = 64;
  for (int64_t g = g0; g < g1; g++) {
    float* panel = out + g * k * lanes;
    for (int64_t t0 = 0; t0 < k; t0 += kStrip) {
      const int64_t t1 = std::min(k, t0 + kStrip);
      for (int l = 0; l < lanes; l++) {
        const int64_t row = g * lanes + l;
        if (row < m) {
          const float* src = x + row * lda;
          for (int64_t t = t0; t < t1; t++) panel[t * lanes + l] = src[t];
        } else {
          for (int64_t t = t0; t < t1; t++) panel[t * lanes + l] = 0.f;
        }
      }
    }
  }
}

}  // namespace tt
