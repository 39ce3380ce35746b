// QuantizeActRows (gemm_quant.h) on 256-bit vectors, shared by the AVX2 and AVX-512 files (each
// compiles it with its own -m flags). At batch 1 every quantized GEMM call quantizes its one row of X
// on one thread while the other threads wait, and the scalar loop took 1.2 µs at k = 896 and 6.7 µs
// at k = 4864: 7-13% of what a Q4_K decode step spends in its q/k/v, o and down calls.
//
// For finite x the result is bit for bit the scalar function's (an infinity or NaN makes its block's
// scale or values garbage in both, differently): the same max (vmaxps with the new value first
// ignores a NaN as the scalar comparison does), the same scale and reciprocal computed in scalar
// code, the same product x · id, and the same rounding (truncate, then step away from zero when the
// dropped part is at least a half; that subtraction is exact). test/native/quantize-acts.test.ts
// compares the two on values placed at and next to every rounding tie.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "gemm_quant.h"

namespace tt {
namespace {

inline int32_t HSumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float HMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  m = _mm_max_ps(_mm_movehl_ps(m, m), m);
  m = _mm_max_ps(_mm_movehdup_ps(m), m);
  return _mm_cvtss_f32(m);
}

// round-half-away-from-zero of x · id, as int32 lanes.
inline __m256i RoundAway(__m256 x, __m256 id) {
  const __m256 v = _mm256_mul_ps(x, id);
  const __m256i t = _mm256_cvttps_epi32(v);
  const __m256 frac = _mm256_sub_ps(v, _mm256_cvtepi32_ps(t));
  // Each mask is all ones (-1) where it holds: t - (frac >= .5) + (frac <= -.5).
  const __m256i up = _mm256_castps_si256(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
  const __m256i down = _mm256_castps_si256(_mm256_cmp_ps(frac, _mm256_set1_ps(-0.5f), _CMP_LE_OQ));
  return _mm256_add_epi32(_mm256_sub_epi32(t, up), down);
}

void QuantizeActRowsSimd(const float* x, int64_t lda, int64_t k, int64_t block, int64_t r0, int64_t r1, int8_t* q, float* d,
                         int16_t* sum16) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  // The two packs below work within 128-bit lanes and leave the 4-byte groups of the block in the
  // order 0, 2, 4, 6, 1, 3, 5, 7; this permutation restores it.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * lda;
    for (int64_t b = 0; b < k / block; b++) {
      const float* xb = xr + b * block;
      __m256 amax = _mm256_setzero_ps();
      for (int64_t i = 0; i < block; i += 8) amax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(xb + i), abs_mask), amax);
      const float db = HMax(amax) / 127.f;
      const __m256 id = _mm256_set1_ps(db != 0.f ? 1.f / db : 0.f);
      d[r * (k / block) + b] = db;
      // 32 values at a time (block is a multiple of 32).
      for (int64_t c = 0; c < block; c += kActBlock) {
        __m256i iv[4];
        for (int i = 0; i < 4; i++) iv[i] = RoundAway(_mm256_loadu_ps(xb + c + 8 * i), id);
        // Values lie in [-127, 127]: the saturating packs keep them as they are.
        const __m256i w01 = _mm256_packs_epi32(iv[0], iv[1]), w23 = _mm256_packs_epi32(iv[2], iv[3]);
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w01, w23), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + r * k + b * block + c), bytes);
        int16_t* s = sum16 + (r * k + b * block + c) / kActSum;
        s[0] = static_cast<int16_t>(HSumI32(_mm256_add_epi32(iv[0], iv[1])));
        s[1] = static_cast<int16_t>(HSumI32(_mm256_add_epi32(iv[2], iv[3])));
      }
    }
  }
}

}  // namespace
}  // namespace tt
