// Token sampling from logits: temperature, top-k, top-p, min-p, greedy, driven by a counter-based
// generator so that a sequence's draws depend only on (its seed, its draw counter), never on the
// batch it happens to run in.
#pragma once
#include <cstdint>
#include <vector>

namespace tt {

struct SamplingParams {
  float temperature = 1.0f;  // 0 = greedy (argmax; ties go to the lowest id)
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
};

// Uniform float in [0, 1) for draw number `counter` of the stream keyed by `seed` (Philox4x32-10).
float CounterUniform(uint64_t seed, uint64_t counter);

// Scratch space reused across calls (kernels never allocate per call in the hot loop).
struct SampleWorkspace {
  std::vector<float> probs;   // [vocab]
  std::vector<int32_t> ids;   // [vocab]
};

// Samples one token id from logits[0, vocab). Filters apply in the order temperature, top-k, top-p,
// min-p (the order of Hugging Face's logits warpers), then the draw uses CounterUniform(seed, counter).
int32_t SampleToken(const float* logits, int32_t vocab, const SamplingParams& p, uint64_t seed,
                    uint64_t counter, SampleWorkspace* ws);

// log softmax(logits)[token] at temperature 1, no filtering.
float TokenLogprob(const float* logits, int32_t vocab, int32_t token);

// SampleToken, then TokenLogprob of the token drawn, sharing one scan of the row for its maximum and
// NaNs (a decode step does both for every sequence; at batch 64 the repeated passes over 64 rows of
// 151,936 logits were most of the sampling time). Same results as the two calls.
int32_t SampleTokenWithLogprob(const float* logits, int32_t vocab, const SamplingParams& p, uint64_t seed,
                               uint64_t counter, SampleWorkspace* ws, float* logprob);

}  // namespace tt
