// Per-candidate math of the tree-search selection kernels (kernels/cpu/tree_ops.h), host+device so the
// CUDA twin ranks and samples with the same bits the CPU tests check.
//
// Ranking: a candidate's key is its score (NaN ranks as −inf); higher keys come first and equal keys
// go to the lower index, a strict total order, so any selection algorithm returns the same list.
// Sampling k of n without replacement from softmax(score / T) is Gumbel-top-k (Kool, van Hoof,
// Welling, ICML 2019): the top k of score / T + G_i, G_i i.i.d. standard Gumbel, are distributed as k
// successive draws without replacement.
#pragma once
#include <cstdint>

#include "math.h"
#include "philox.h"

namespace tt {

// NaN ranks as −inf, so it never beats a real candidate.
TT_HD float RankKey(float score) { return score != score ? -INFINITY : score; }

// Whether candidate a (key ka) comes before candidate b (key kb).
TT_HD bool RanksBefore(float ka, int32_t a, float kb, int32_t b) { return ka > kb || (ka == kb && a < b); }

// Philox counter word 3 of candidate draws: keeps them apart from the token sampler's stream of the
// same seed (which leaves words 2 and 3 zero).
constexpr uint32_t kCandidateStream = 0x43414E44u;  // "CAND"

// Uniform in the open interval (0, 1) for candidate `index` of draw `counter` of stream `seed`:
// counter words 0 = counter, 1 = index, 3 = kCandidateStream. The top 23 bits of output word 0 pick
// an odd multiple of 2^-24, so 0 and 1 (whose Gumbel values are infinite) can never come out.
TT_HD float CandidateUniform(uint64_t seed, uint32_t counter, uint32_t index) {
  Philox4x32 c;
  c.w[0] = counter;
  c.w[1] = index;
  c.w[2] = 0;
  c.w[3] = kCandidateStream;
  PhiloxKey k;
  k.w[0] = static_cast<uint32_t>(seed);
  k.w[1] = static_cast<uint32_t>(seed >> 32);
  const Philox4x32 r = Philox4x32_10(c, k);
  return static_cast<float>((r.w[0] >> 9) * 2u + 1u) * (1.0f / 16777216.0f);
}

// Standard Gumbel by inversion: −log(−log u), finite for u in (0, 1) (within about [−2.8, 16.6]).
TT_HD float GumbelFromUniform(float u) { return -logf(-logf(u)); }

// Sampling key of a candidate: score / temperature + Gumbel noise. Zero-probability candidates
// (score −inf or NaN) keep −inf, behind every candidate that can be drawn. temperature > 0.
TT_HD float GumbelKey(float score, float temperature, uint64_t seed, uint32_t counter, uint32_t index) {
  const float s = RankKey(score);
  if (s == -INFINITY) return s;
  return s / temperature + GumbelFromUniform(CandidateUniform(seed, counter, index));
}

}  // namespace tt
