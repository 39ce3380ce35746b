// AVX-512 pieces shared by the attention items of attention_avx512.cc and attention_avx512bf16.cc
// (each compiled with its ISA's flags; everything here is inline and file-local to its includer).
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "attention.h"

namespace tt {
namespace attn512 {

inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 Load16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// e^x for x <= 0, the polynomial of attention_avx2.cc's ExpNonPositive on sixteen lanes.
inline __m512 ExpNonPositive(__m512 x) {
  const __m512 lower = _mm512_set1_ps(-87.3f);
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, lower, _CMP_LT_OQ);
  x = _mm512_max_ps(x, lower);
  const __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i n = _mm512_cvtps_epi32(fx);
  const __m512 pow2n = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~underflow), _mm512_mul_ps(y, pow2n));
}

// Lane sums and maxima by halves, as attention_avx2.cc's.
inline __m256 HalfSum(__m512 v) { return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)); }

inline float HorizontalSum(__m512 v) {
  const __m256 h = HalfSum(v);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float HorizontalMax(__m512 v) {
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Four dot products' lane sums in one vector: [sum a, sum b, sum c, sum d].
inline __m128 HorizontalSum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m256 ab = _mm256_hadd_ps(HalfSum(a), HalfSum(b)), cd = _mm256_hadd_ps(HalfSum(c), HalfSum(d));
  const __m256 abcd = _mm256_hadd_ps(ab, cd);
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// s[lo, hi) = exp(s - max); returns (max, sum). Lanes past hi are padded with -inf (scratch has room).
inline void Softmax(float* s, int lo, int hi, float* mx_out, float* sum_out) {
  for (int j = hi; j < hi + 16; j++) s[j] = -INFINITY;
  __m512 mv = _mm512_set1_ps(-INFINITY);
  for (int j = lo; j < hi; j += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(s + j));
  const float mx = HorizontalMax(mv);
  const __m512 mb = _mm512_set1_ps(mx);
  __m512 sum = _mm512_setzero_ps();
  for (int j = lo; j < hi; j += 16) {
    const __m512 e = ExpNonPositive(_mm512_sub_ps(_mm512_loadu_ps(s + j), mb));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  *mx_out = mx;
  *sum_out = HorizontalSum(sum);
}

// Softmax of the block's NQ score rows S [NQ, n32] of query vectors [i0, i0 + NQ) over each one's
// visible keys [lo, hi) (masked keys get probability 0); writes m and d, and the union of the
// visible ranges to [*j_lo, *j_hi).
template <int NQ>
inline void BlockSoftmax(const AttnItemArgs& a, int64_t i0, int n32, float* S, int* j_lo_out, int* j_hi_out) {
  int j_lo = n32, j_hi = 0;
  for (int qi = 0; qi < NQ; qi++) {
    const int64_t i = i0 + qi;
    const int r = static_cast<int>(i / a.group);
    const int lo = a.lo[r], hi = a.hi[r];
    float* row = S + qi * n32;
    if (lo >= hi) {
      std::fill(row, row + n32, 0.0f);
      a.m[i] = -INFINITY;
      a.d[i] = 0.0f;
      continue;
    }
    j_lo = std::min(j_lo, lo);
    j_hi = std::max(j_hi, hi);
    std::fill(row, row + lo, -INFINITY);
    std::fill(row + hi, row + n32, -INFINITY);
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < n32; j += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(row + j));
    const float mx = HorizontalMax(mv);
    const __m512 mb = _mm512_set1_ps(mx);
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < n32; j += 16) {
      const __m512 e = ExpNonPositive(_mm512_sub_ps(_mm512_loadu_ps(row + j), mb));
      _mm512_storeu_ps(row + j, e);
      sum = _mm512_add_ps(sum, e);
    }
    a.m[i] = mx;
    a.d[i] = HorizontalSum(sum);
  }
  *j_lo_out = j_lo;
  *j_hi_out = j_hi;
}

// o of query vectors [i0, i0 + NQ) = P · V over keys [j_lo, j_hi): vc [n, D] values packed.
template <int NQ>
inline void BlockOutput(const AttnItemArgs& a, int64_t i0, const float* vc, int n32, const float* S, int j_lo, int j_hi) {
  const int D = a.head_dim;
  // 32 dims per pass: 2 value loads and NQ broadcasts feed 2·NQ FMAs
  int c = 0;
  for (; c + 32 <= D; c += 32) {
    __m512 acc[NQ][2];
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) acc[qi][0] = acc[qi][1] = _mm512_setzero_ps();
    for (int j = j_lo; j < j_hi; j++) {
      const __m512 v0 = _mm512_loadu_ps(vc + j * D + c), v1 = _mm512_loadu_ps(vc + j * D + c + 16);
#pragma GCC unroll 8
      for (int qi = 0; qi < NQ; qi++) {
        const __m512 b = _mm512_set1_ps(S[qi * n32 + j]);
        acc[qi][0] = _mm512_fmadd_ps(b, v0, acc[qi][0]);
        acc[qi][1] = _mm512_fmadd_ps(b, v1, acc[qi][1]);
      }
    }
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) {
      _mm512_storeu_ps(a.o + (i0 + qi) * D + c, acc[qi][0]);
      _mm512_storeu_ps(a.o + (i0 + qi) * D + c + 16, acc[qi][1]);
    }
  }
  if (c < D) {  // D % 32 == 16: the last 16 dims
    __m512 acc[NQ];
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) acc[qi] = _mm512_setzero_ps();
    for (int j = j_lo; j < j_hi; j++) {
      const __m512 v0 = _mm512_loadu_ps(vc + j * D + c);
#pragma GCC unroll 8
      for (int qi = 0; qi < NQ; qi++) acc[qi] = _mm512_fmadd_ps(_mm512_set1_ps(S[qi * n32 + j]), v0, acc[qi]);
    }
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) _mm512_storeu_ps(a.o + (i0 + qi) * D + c, acc[qi]);
  }
}


// Values packed into vc [n, D] as f32 (bf16 widened here, once per item).
template <typename T>
inline void PackValues(const AttnItemArgs& a, float* vc) {
  const int D = a.head_dim;
  const T* const* V = reinterpret_cast<const T* const*>(a.v_rows);
  for (int j = 0; j < a.n; j++)
    for (int d = 0; d < D; d += 16) _mm512_storeu_ps(vc + static_cast<int64_t>(j) * D + d, Load16(V[j] + d));
}

}  // namespace attn512
}  // namespace tt
