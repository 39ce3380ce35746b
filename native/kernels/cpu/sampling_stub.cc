// TEMPORARY stand-in for sampling.cc (owned by the sampling helper, merged later) so the runtime
// branch links. Not committed in the final state of the branch. Greedy is exact; the sampled path
// is a plain temperature draw with a splitmix-based uniform, enough for the runtime's own tests.
#include <algorithm>
#include <cmath>

#include "sampling.h"

namespace tt {

float CounterUniform(uint64_t seed, uint64_t counter) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + counter + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) / 16777216.0f;
}

int32_t SampleToken(const float* logits, int32_t vocab, const SamplingParams& p, uint64_t seed, uint64_t counter,
                    SampleWorkspace* ws) {
  int32_t best = 0;
  for (int32_t i = 1; i < vocab; i++)
    if (logits[i] > logits[best]) best = i;
  if (p.temperature <= 0.0f) return best;
  ws->probs.resize(vocab);
  double sum = 0.0;
  for (int32_t i = 0; i < vocab; i++) {
    ws->probs[i] = expf((logits[i] - logits[best]) / p.temperature);
    sum += ws->probs[i];
  }
  const double u = CounterUniform(seed, counter) * sum;
  double acc = 0.0;
  for (int32_t i = 0; i < vocab; i++) {
    acc += ws->probs[i];
    if (u < acc) return i;
  }
  return best;
}

float TokenLogprob(const float* logits, int32_t vocab, int32_t token) {
  float m = logits[0];
  for (int32_t i = 1; i < vocab; i++) m = std::max(m, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < vocab; i++) sum += std::exp(static_cast<double>(logits[i] - m));
  return static_cast<float>(logits[token] - m - std::log(sum));
}

}  // namespace tt
