// Per-element math of the samplers, host+device so the CUDA sampler can compute the same weights.
#pragma once
#include <cstdint>
#include <cstring>

#include "math.h"

// Always inlined on the host: these are compiled into per-ISA files too, and an out-of-line copy
// emitted by an AVX2 file could be the one the linker keeps for every caller.
#if defined(__CUDACC__)
#define TT_HD_INLINE TT_HD
#elif defined(__GNUC__)
#define TT_HD_INLINE inline __attribute__((always_inline))
#else
#define TT_HD_INLINE inline
#endif

namespace tt {

// e^x for x ≤ 0 (−inf included), the only range a max-subtracted softmax needs. Branch-free, even in
// its range check (an integer mask, not a float compare: under the default -ftrapping-math GCC will not
// if-convert float selects), so a loop of it vectorises where libm expf does not. x = n·ln2 + r with
// |r| ≤ ln2/2; e^r by its degree-6 Taylor polynomial (truncation ≤ 0.347^7 / 7! ≈ 1.2e-7 relative);
// 2^n goes straight into the exponent bits. Below −87 (e^−87 ≈ 1.6e-38, the edge of the normal range)
// it returns 0: a probability ratio no sampler can tell from 0.
TT_HD_INLINE float ExpNonPositive(float x) {
  const float kLog2e = 1.44269504f;
  const float kLn2Hi = 0.693145752f;  // ln2 split so that n·kLn2Hi is exact for |n| ≤ 127
  const float kLn2Lo = 1.42860677e-6f;
  const float kRound = 12582912.0f;   // 1.5·2^23: adding it rounds to the nearest integer
  const uint32_t kMinus87 = 0xC2AE0000u;  // bits of −87.0f; more negative floats have larger bits
  uint32_t xb;
  memcpy(&xb, &x, 4);
  // All ones for x in [−87, 0] (and +0), zero below −87 and for −inf; the masked input (+0) keeps the
  // arithmetic below finite in the lanes whose result is thrown away.
  const uint32_t keep = 0u - static_cast<uint32_t>(xb <= kMinus87);
  xb &= keep;
  float xc;
  memcpy(&xc, &xb, 4);
  const float n = (xc * kLog2e + kRound) - kRound;  // in [−126, 0]
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t scale_bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  memcpy(&scale, &scale_bits, 4);
  const float e = p * scale;
  uint32_t eb;
  memcpy(&eb, &e, 4);
  eb &= keep;
  float out;
  memcpy(&out, &eb, 4);
  return out;
}

// Rank buckets for top-k and top-p: bucket b holds z = (l − l_max) · scale ≤ 0 in (−(b+1)/32, −b/32];
// the last one (the catch-all) takes everything below −1023/32 ≈ −32 (for top-p, with scale 1/T,
// probability ratios under e^−32 ≈ 1e−14). Monotone in z, so every bucket is a contiguous run of the
// descending-logit order.
constexpr int32_t kRankBuckets = 1024;
constexpr float kRankBucketsPerUnit = 32.0f;

TT_HD_INLINE int32_t RankBucket(float z) {
  // Clamp z below −32 on its bits and the bucket on an int: integer selects keep a loop of this
  // vectorisable (as in ExpNonPositive). Negative floats order by their bits reversed.
  const uint32_t kMinus32 = 0xC2000000u;
  uint32_t zb;
  memcpy(&zb, &z, 4);
  zb = zb > kMinus32 ? kMinus32 : zb;  // also maps −inf
  float zc;
  memcpy(&zc, &zb, 4);
  const int32_t b = static_cast<int32_t>(-zc * kRankBucketsPerUnit);  // in [0, 1024]
  return b < kRankBuckets - 1 ? b : kRankBuckets - 1;
}

// A float's bits as an unsigned key with the same order (−0 just below +0, NaN outside ±inf): what
// the GPU sampler binary-searches instead of sorting.
TT_HD_INLINE uint32_t FloatOrderKeyU(float f) {
  int32_t b;
  memcpy(&b, &f, 4);
  b ^= (b >> 31) & 0x7fffffff;  // negative floats: flip the magnitude so larger means larger
  return static_cast<uint32_t>(b) ^ 0x80000000u;
}

}  // namespace tt
