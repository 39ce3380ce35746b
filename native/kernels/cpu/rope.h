// Rotary position embedding, rotate-half layout (Hugging Face): element i of a head pairs with
// element i + head_dim/2, angle = position · inv_freq[i]. Scaling schemes (linear, llama3) are folded
// into inv_freq by the loader, so one kernel serves them all.
//
// Interleaved input (GGUF files of arch `llama`): llama.cpp's converter permutes the rows of Q and K
// so that pair i of a head sits at elements (2i, 2i + 1) for its GPT-J-style RoPE. With `interleaved`
// the kernel reads pair i there and writes the rotated pair back to (i, i + head_dim/2), so Q, K and
// the KV cache come out exactly as the Hugging Face layout gives them, from the permuted weights
// as stored (no copy of the weights, and the same attention arithmetic as the safetensors path).
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
  bool interleaved = false;            // input pairs at (2i, 2i+1); output in rotate-half order (see above)
  // [tokens, head_dim / 2, 2]: cos · scaling and sin · scaling of every token's angles, from
  // RopeTable; or null to compute them in the call. A forward pass rotates Q and K of every layer at
  // the same positions, so it fills the table once per chunk instead of calling cosf/sinf
  // 2 · layers times (at batch 64 those calls cost more than the rest of the elementwise work).
  const float* cos_sin = nullptr;
};

// Largest head_dim the interleaved mode handles (its per-head scratch lives on the stack).
constexpr int kRopeMaxInterleavedHeadDim = 1024;

void Rope(const RopeParams& p, ThreadPool* pool);

// Fills out[tokens · head_dim/2 · 2] with the values Rope would compute for p's positions (the same
// f32 arithmetic, so rotating through the table is bit-identical to rotating without it).
void RopeTable(const RopeParams& p, float* out, ThreadPool* pool);

}  // namespace tt
