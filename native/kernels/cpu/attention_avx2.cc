// AVX2 + FMA attention tile (compiled with avx2 flags; see native/sources.json). Same arithmetic as
// the scalar tile in attention.cc, eight lanes at a time; head_dim must be a multiple of 8, other
// head sizes use the scalar tile.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "attention.h"

namespace tt {

namespace {

// e^x for x <= 0 (the only arguments online softmax produces), Cephes-style: x = n·ln2 + r with
// |r| <= ln2/2, e^r by a degree-6 polynomial (relative error ~1e-7), 2^n built in the exponent bits.
// Inputs below -87.3 (and -inf) give exactly 0.
inline __m256 ExpNonPositive(__m256 x) {
  const __m256 lower = _mm256_set1_ps(-87.3f);
  const __m256 underflow = _mm256_cmp_ps(x, lower, _CMP_LT_OQ);
  x = _mm256_max_ps(x, lower);
  const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i n = _mm256_cvtps_epi32(fx);
  const __m256 pow2n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(y, pow2n));
}

inline float HorizontalMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Four dot products' lane sums in one vector: [sum a, sum b, sum c, sum d].
inline __m128 HorizontalSum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
  const __m256 abcd = _mm256_hadd_ps(ab, cd);
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// s[j - lo] = q · k_j for j in [lo, hi); four keys per pass so each q chunk is loaded once per four.
inline void Logits(const float* q, const float* k, int64_t stride, int lo, int hi, int D, float* s) {
  int j = lo;
  for (; j + 4 <= hi; j += 4) {
    const float* k0 = k + j * stride;
    const float* k1 = k0 + stride;
    const float* k2 = k1 + stride;
    const float* k3 = k2 + stride;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int t = 0; t < D; t += 8) {
      const __m256 qv = _mm256_loadu_ps(q + t);
      a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + t), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + t), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + t), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + t), a3);
    }
    _mm_storeu_ps(s + (j - lo), HorizontalSum4(a0, a1, a2, a3));
  }
  for (; j < hi; j++) {
    const float* kj = k + j * stride;
    __m256 acc = _mm256_setzero_ps();
    for (int t = 0; t < D; t += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + t), _mm256_loadu_ps(kj + t), acc);
    s[j - lo] = HorizontalSum(acc);
  }
}

// o = o·alpha + sum_j p[j - lo] v_j; 32 output lanes held in registers across the keys.
inline void Accumulate(float* o, float alpha, const float* p, const float* v, int64_t stride, int lo, int hi, int D) {
  const __m256 al = _mm256_set1_ps(alpha);
  int t = 0;
  for (; t + 32 <= D; t += 32) {
    __m256 o0 = _mm256_mul_ps(_mm256_loadu_ps(o + t), al);
    __m256 o1 = _mm256_mul_ps(_mm256_loadu_ps(o + t + 8), al);
    __m256 o2 = _mm256_mul_ps(_mm256_loadu_ps(o + t + 16), al);
    __m256 o3 = _mm256_mul_ps(_mm256_loadu_ps(o + t + 24), al);
    for (int j = lo; j < hi; j++) {
      const float* vj = v + j * stride + t;
      const __m256 pj = _mm256_set1_ps(p[j - lo]);
      o0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj), o0);
      o1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8), o1);
      o2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 16), o2);
      o3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 24), o3);
    }
    _mm256_storeu_ps(o + t, o0);
    _mm256_storeu_ps(o + t + 8, o1);
    _mm256_storeu_ps(o + t + 16, o2);
    _mm256_storeu_ps(o + t + 24, o3);
  }
  for (; t < D; t += 8) {
    __m256 o0 = _mm256_mul_ps(_mm256_loadu_ps(o + t), al);
    for (int j = lo; j < hi; j++) o0 = _mm256_fmadd_ps(_mm256_set1_ps(p[j - lo]), _mm256_loadu_ps(v + j * stride + t), o0);
    _mm256_storeu_ps(o + t, o0);
  }
}

void TileAvx2(const AttnTileArgs& a) {
  const int D = a.head_dim;
  if (D % 8 != 0) {
    AttnTileScalar()(a);
    return;
  }
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  for (int r = 0; r < a.rows; r++) {
    const int lo = a.lo[r], hi = a.hi[r];
    if (lo >= hi) continue;
    const int n = hi - lo;
    for (int g = 0; g < a.group; g++) {
      const int64_t i = static_cast<int64_t>(r) * a.group + g;
      Logits(a.q + i * D, a.k, a.kv_stride, lo, hi, D, a.s);
      _mm256_storeu_ps(a.s + n, neg_inf);  // pad to a whole vector: e^-inf = 0 adds nothing
      __m256 mv = neg_inf;
      for (int j = 0; j < n; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(a.s + j));
      const float m_old = a.m[i];
      const float m_new = std::max(m_old, HorizontalMax(mv));
      const float alpha = m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
      const __m256 mn = _mm256_set1_ps(m_new);
      __m256 sum = _mm256_setzero_ps();
      for (int j = 0; j < n; j += 8) {
        const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(a.s + j), mn));
        _mm256_storeu_ps(a.s + j, e);
        sum = _mm256_add_ps(sum, e);
      }
      Accumulate(a.o + i * D, alpha, a.s, a.v, a.kv_stride, lo, hi, D);
      a.d[i] = a.d[i] * alpha + HorizontalSum(sum);
      a.m[i] = m_new;
    }
  }
}

}  // namespace

AttnTileFn AttnTileAvx2() { return TileAvx2; }

}  // namespace tt
