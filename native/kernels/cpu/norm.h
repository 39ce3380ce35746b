// RMSNorm as Llama/Qwen2/Mistral define it: y = x / sqrt(mean(x²) + eps) * weight, computed in f32.
#pragma once
#include <cstdint>

#include "../../platform/thread_pool.h"
#include "../common/dtype.h"

namespace tt {

struct RmsNormParams {
  const float* x = nullptr;  // [rows, dim], row stride ld_x
  int64_t ld_x = 0;
  const void* weight = nullptr;  // [dim], dtype w_dtype
  DType w_dtype = DType::kF32;
  float* y = nullptr;  // [rows, dim], row stride ld_y; may alias x
  int64_t ld_y = 0;
  int64_t rows = 0, dim = 0;
  float eps = 1e-6f;
};

void RmsNorm(const RmsNormParams& p, ThreadPool* pool);

// Σ x[i]² in double over AVX2 lanes (norm_avx2.cc); RmsNorm uses it where the host has AVX2.
double SumSquaresAvx2(const float* x, int64_t n);

}  // namespace tt
