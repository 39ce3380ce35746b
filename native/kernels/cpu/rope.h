// Rotary position embedding, rotate-half layout (Hugging Face): element i of a head pairs with
// element i + head_dim/2, angle = position · inv_freq[i]. Scaling schemes (linear, llama3) are folded
// into inv_freq by the loader, so one kernel serves them all.
#pragma once
#include <cstdint>

#include "../../platform/thread_pool.h"

namespace tt {

struct RopeParams {
  float* x = nullptr;          // [tokens, heads, head_dim] rows of one projection, row stride ld (elements per token)
  int64_t ld = 0;
  int64_t tokens = 0;
  int heads = 0, head_dim = 0;
  const int32_t* positions = nullptr;  // [tokens] absolute position of each token
  const float* inv_freq = nullptr;     // [head_dim / 2]
  float attention_scaling = 1.0f;      // multiplies cos and sin (1 for default/linear/llama3)
};

void Rope(const RopeParams& p, ThreadPool* pool);

}  // namespace tt
