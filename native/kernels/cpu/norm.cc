#include "norm.h"

#include "../common/math.h"
#include "../../platform/cpu_features.h"

namespace tt {

namespace {

// One row group per call; the weight dtype is a template parameter so the scaling loop has no
// per-element branch and the compiler can vectorise it.
template <DType WD>
void NormRows(const RmsNormParams& p, int64_t r0, int64_t r1) {
  const bool avx2 = HostCpuFeatures().avx2;
  for (int64_t r = r0; r < r1; r++) {
    const float* x = p.x + r * p.ld_x;
    float* y = p.y + r * p.ld_y;
    // double: the mean of squares over thousands of elements stays exact enough
    double ss = 0.0;
    if (avx2) {
      ss = SumSquaresAvx2(x, p.dim);
    } else {
      for (int64_t i = 0; i < p.dim; i++) ss += static_cast<double>(x[i]) * x[i];
    }
    const float inv = 1.0f / sqrtf(static_cast<float>(ss / p.dim) + p.eps);
    for (int64_t i = 0; i < p.dim; i++) {
      float w;
      if constexpr (WD == DType::kF32) w = static_cast<const float*>(p.weight)[i];
      else if constexpr (WD == DType::kF16) w = F16ToF32(static_cast<const uint16_t*>(p.weight)[i]);
      else w = Bf16ToF32(static_cast<const uint16_t*>(p.weight)[i]);
      y[i] = x[i] * inv * w;
    }
  }
}

}  // namespace

void RmsNorm(const RmsNormParams& p, ThreadPool* pool) {
  auto rows = [&](int64_t r0, int64_t r1) {
    switch (p.w_dtype) {
      case DType::kF32: return NormRows<DType::kF32>(p, r0, r1);
      case DType::kF16: return NormRows<DType::kF16>(p, r0, r1);
      case DType::kBF16: return NormRows<DType::kBF16>(p, r0, r1);
      default: return;  // norm weights are always float (weights.cc converts them to f32)
    }
  };
  if (pool) pool->ParallelFor(p.rows, 4, rows); else rows(0, p.rows);
}

}  // namespace tt
