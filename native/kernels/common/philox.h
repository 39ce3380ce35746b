// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
// a counter-based generator, so draw n of a stream is a pure function of (key, n). That is what lets
// a sequence's samples stay the same whichever batch, row or thread computes them, on CPU or GPU.
// Host+device inline so the CUDA sampler runs the same bits the CPU tests check.
#pragma once
#include <cstdint>

#include "math.h"

namespace tt {

// 128-bit counter and 64-bit key as 32-bit words, word 0 least significant (Random123's layout).
struct Philox4x32 {
  uint32_t w[4];
};
struct PhiloxKey {
  uint32_t w[2];
};

// Round multipliers and Weyl key increments from the paper (golden ratio and sqrt(3) - 1 for the key).
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

TT_HD Philox4x32 PhiloxRound(Philox4x32 c, PhiloxKey k) {
  const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c.w[0];
  const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c.w[2];
  const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
  const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
  Philox4x32 r;
  r.w[0] = hi1 ^ c.w[1] ^ k.w[0];
  r.w[1] = lo1;
  r.w[2] = hi0 ^ c.w[3] ^ k.w[1];
  r.w[3] = lo0;
  return r;
}

// Ten rounds, the key bumped between rounds (not before the first).
TT_HD Philox4x32 Philox4x32_10(Philox4x32 c, PhiloxKey k) {
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k.w[0] += kPhiloxW0;
      k.w[1] += kPhiloxW1;
    }
    c = PhiloxRound(c, k);
  }
  return c;
}

// The uniform draw the samplers use: key = seed's halves, counter words 0-1 = draw number's halves,
// words 2-3 zero; the top 24 bits of output word 0 scaled by 2^-24, so every value is an exact f32
// in [0, 1) and 1.0 can never come out (an inverse CDF may rely on u < 1).
TT_HD float PhiloxUniform(uint64_t seed, uint64_t counter) {
  Philox4x32 c;
  c.w[0] = static_cast<uint32_t>(counter);
  c.w[1] = static_cast<uint32_t>(counter >> 32);
  c.w[2] = 0;
  c.w[3] = 0;
  PhiloxKey k;
  k.w[0] = static_cast<uint32_t>(seed);
  k.w[1] = static_cast<uint32_t>(seed >> 32);
  const Philox4x32 r = Philox4x32_10(c, k);
  return static_cast<float>(r.w[0] >> 8) * (1.0f / 16777216.0f);
}

}  // namespace tt
