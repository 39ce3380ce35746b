// One linear layer of the CPU forward and of the output heads: y = x · wᵀ (+ bias) over dense rows,
// through the gemm kernel, with the runtime's workspace and the error as a Status naming the layer.
#pragma once
#include <cstdint>

#include "../kernels/cpu/gemm.h"
#include "../platform/cpu_features.h"
#include "../platform/thread_pool.h"
#include "status.h"
#include "weights.h"

namespace tt {

// What every linear layer of one forward shares.
struct LinearContext {
  Precision precision = Precision::kF32;
  Isa isa = Isa::kScalar;
  GemmWorkspace* ws = nullptr;  // the caller's (ForwardScratch::gemm)
  ThreadPool* pool = nullptr;   // may be null
};

// y[m, n] = x[m, k] · wᵀ (+ bias), dense rows; `bias` null or [n]. `what` names the layer in errors.
Status Linear(const float* x, int64_t m, int64_t k, const WeightRef& w, const float* bias, int64_t n, float* y,
              const LinearContext& ctx, const char* what);

}  // namespace tt
