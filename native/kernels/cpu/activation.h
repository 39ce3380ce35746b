// Gated MLP activation: out[i] = silu(gate[i]) * up[i].
#pragma once
#include <cstdint>

#include "../../platform/thread_pool.h"

namespace tt {

struct SwiGluParams {
  const float* gate = nullptr;  // [rows, dim], row stride ld_in
  const float* up = nullptr;    // [rows, dim], row stride ld_in
  int64_t ld_in = 0;
  float* out = nullptr;  // [rows, dim], row stride ld_out; may alias gate
  int64_t ld_out = 0;
  int64_t rows = 0, dim = 0;
};

void SwiGluRows(const SwiGluParams& p, ThreadPool* pool);

// One row with AVX2 + FMA (activation_avx2.cc); SwiGluRows calls it where the host has them.
void SwiGluRowAvx2(const float* gate, const float* up, float* out, int64_t dim);

}  // namespace tt
