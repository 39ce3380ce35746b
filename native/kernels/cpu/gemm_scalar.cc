// Portable GEMM: the fallback on CPUs without AVX2 (and on other architectures). Eight independent
// partial sums per output let the compiler use whatever baseline vectors the target has (SSE2, NEON)
// without reassociating floating-point math on its own.
#include "../common/math.h"
#include "gemm.h"

namespace tt {

namespace {

template <DType WD>
inline float LoadW(const void* w, int64_t i) {
  if constexpr (WD == DType::kF32) return static_cast<const float*>(w)[i];
  else if constexpr (WD == DType::kF16) return F16ToF32(static_cast<const uint16_t*>(w)[i]);
  else return Bf16ToF32(static_cast<const uint16_t*>(w)[i]);
}

// Gemm() has already rounded X to bf16 for Precision::kBF16, so both precisions are the same math here.
template <DType WD>
void BlockScalar(const GemmParams& p, int64_t n0, int64_t n1) {
  constexpr int kLanes = 8;
  for (int64_t i = 0; i < p.m; i++) {
    const float* x = p.x + i * p.lda;
    for (int64_t j = n0; j < n1; j++) {
      const int64_t base = j * p.k;
      float acc[kLanes] = {};
      int64_t t = 0;
      for (; t + kLanes <= p.k; t += kLanes)
        for (int l = 0; l < kLanes; l++) acc[l] += x[t + l] * LoadW<WD>(p.w, base + t + l);
      for (; t < p.k; t++) acc[0] += x[t] * LoadW<WD>(p.w, base + t);
      float s = 0.f;
      for (int l = 0; l < kLanes; l++) s += acc[l];
      p.y[i * p.ldy + j] = s + (p.bias ? p.bias[j] : 0.f);
    }
  }
}

void BlockScalarAny(const GemmParams& p, int64_t n0, int64_t n1) {
  switch (p.w_dtype) {
    case DType::kF32: return BlockScalar<DType::kF32>(p, n0, n1);
    case DType::kF16: return BlockScalar<DType::kF16>(p, n0, n1);
    case DType::kBF16: return BlockScalar<DType::kBF16>(p, n0, n1);
    default: return;  // quantized weights go to gemm_quant.cc
  }
}

}  // namespace

GemmBlockFn GemmBlockScalar() { return BlockScalarAny; }

}  // namespace tt
