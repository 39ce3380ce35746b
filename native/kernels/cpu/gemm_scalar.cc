// Portable reference GEMM: the fallback on CPUs without AVX2 and the oracle for the SIMD variants.
#include "../common/math.h"
#include "gemm.h"

namespace tt {

namespace {

inline float LoadW(const void* w, DType t, int64_t i) {
  switch (t) {
    case DType::kF32: return static_cast<const float*>(w)[i];
    case DType::kF16: return F16ToF32(static_cast<const uint16_t*>(w)[i]);
    case DType::kBF16: return Bf16ToF32(static_cast<const uint16_t*>(w)[i]);
  }
  return 0.f;
}

// Gemm() has already rounded X to bf16 for Precision::kBF16, so both precisions are the same math here.
void BlockScalar(const GemmParams& p, int64_t n0, int64_t n1) {
  for (int64_t i = 0; i < p.m; i++) {
    const float* x = p.x + i * p.lda;
    for (int64_t j = n0; j < n1; j++) {
      const int64_t base = j * p.k;
      float acc = 0.f;
      for (int64_t t = 0; t < p.k; t++) {
        acc += x[t] * LoadW(p.w, p.w_dtype, base + t);
      }
      p.y[i * p.ldy + j] = acc + (p.bias ? p.bias[j] : 0.f);
    }
  }
}

}  // namespace

GemmBlockFn GemmBlockScalar() { return BlockScalar; }

}  // namespace tt
