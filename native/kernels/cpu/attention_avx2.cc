// AVX2 + FMA attention items (compiled with avx2 flags; see native/sources.json). Same arithmetic as
// the scalar item in attention.cc, eight lanes at a time. Key and value rows are f32 or bf16
// (AttnItemArgs::kv_bf16), bf16 widened as loaded, so both dtypes give identical results. The per-query variant needs head_dim % 8
// == 0 (else it defers to the scalar one); the block variant head_dim % 16 == 0.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "attention.h"

namespace tt {

namespace {

// Eight key or value elements as f32: bf16 rows are widened as they are loaded (exact).
inline __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 Load8(const uint16_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

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

// s[j] = q · k_j for j in [lo, hi) (indices into the item's keys); four keys per pass so each q
// chunk is loaded once per four keys.
template <typename T>
inline void Logits(const float* q, const T* const* k, int lo, int hi, int D, float* s) {
  int j = lo;
  for (; j + 4 <= hi; j += 4) {
    const T* k0 = k[j];
    const T* k1 = k[j + 1];
    const T* k2 = k[j + 2];
    const T* k3 = k[j + 3];
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int t = 0; t < D; t += 8) {
      const __m256 qv = _mm256_loadu_ps(q + t);
      a0 = _mm256_fmadd_ps(qv, Load8(k0 + t), a0);
      a1 = _mm256_fmadd_ps(qv, Load8(k1 + t), a1);
      a2 = _mm256_fmadd_ps(qv, Load8(k2 + t), a2);
      a3 = _mm256_fmadd_ps(qv, Load8(k3 + t), a3);
    }
    _mm_storeu_ps(s + j, HorizontalSum4(a0, a1, a2, a3));
  }
  for (; j < hi; j++) {
    __m256 acc = _mm256_setzero_ps();
    for (int t = 0; t < D; t += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + t), Load8(k[j] + t), acc);
    s[j] = HorizontalSum(acc);
  }
}

// s[lo, hi) = exp(s - max); returns (max, sum). Lanes past hi are padded with -inf (scratch has room).
inline void Softmax(float* s, int lo, int hi, float* mx_out, float* sum_out) {
  for (int j = hi; j < hi + 8; j++) s[j] = -INFINITY;
  __m256 mv = _mm256_set1_ps(-INFINITY);
  for (int j = lo; j < hi; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(s + j));
  const float mx = HorizontalMax(mv);
  const __m256 mb = _mm256_set1_ps(mx);
  __m256 sum = _mm256_setzero_ps();
  for (int j = lo; j < hi; j += 8) {
    const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(s + j), mb));
    _mm256_storeu_ps(s + j, e);
    sum = _mm256_add_ps(sum, e);
  }
  *mx_out = mx;
  *sum_out = HorizontalSum(sum);
}

inline void EmptyState(const AttnItemArgs& a, int64_t i) {
  std::fill(a.o + i * a.head_dim, a.o + (i + 1) * a.head_dim, 0.0f);
  a.m[i] = -INFINITY;
  a.d[i] = 0.0f;
}

// Query vector i against keys [lo, hi).
template <typename T>
inline void Query(const AttnItemArgs& a, int64_t i, int lo, int hi) {
  const int D = a.head_dim;
  const T* const* K = reinterpret_cast<const T* const*>(a.k_rows);
  const T* const* V = reinterpret_cast<const T* const*>(a.v_rows);
  float* s = a.scratch;
  Logits(a.q + i * D, K, lo, hi, D, s);
  Softmax(s, lo, hi, &a.m[i], &a.d[i]);
  float* o = a.o + i * D;
  int t = 0;
  for (; t + 32 <= D; t += 32) {
    __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    for (int j = lo; j < hi; j++) {
      const T* vj = V[j] + t;
      const __m256 pj = _mm256_set1_ps(s[j]);
      o0 = _mm256_fmadd_ps(pj, Load8(vj), o0);
      o1 = _mm256_fmadd_ps(pj, Load8(vj + 8), o1);
      o2 = _mm256_fmadd_ps(pj, Load8(vj + 16), o2);
      o3 = _mm256_fmadd_ps(pj, Load8(vj + 24), o3);
    }
    _mm256_storeu_ps(o + t, o0);
    _mm256_storeu_ps(o + t + 8, o1);
    _mm256_storeu_ps(o + t + 16, o2);
    _mm256_storeu_ps(o + t + 24, o3);
  }
  for (; t < D; t += 8) {
    __m256 o0 = _mm256_setzero_ps();
    for (int j = lo; j < hi; j++) o0 = _mm256_fmadd_ps(_mm256_set1_ps(s[j]), Load8(V[j] + t), o0);
    _mm256_storeu_ps(o + t, o0);
  }
}

// Query vectors i and i + 1 (two heads of one kv head) against keys [lo, hi): every key and value
// load feeds both. `prefetch`: this is the row's first call, which asks for its K/V rows.
template <typename T>
inline void QueryPair(const AttnItemArgs& a, int64_t i, int lo, int hi, bool prefetch) {
  const int D = a.head_dim;
  const T* const* K = reinterpret_cast<const T* const*>(a.k_rows);
  const T* const* V = reinterpret_cast<const T* const*>(a.v_rows);
  const float* qa = a.q + i * D;
  const float* qb = qa + D;
  float* sa = a.scratch;
  float* sb = a.scratch + kAttnItemKeys + 16;
  int j = lo;
  if (prefetch)
    for (int jj = lo; jj < std::min(hi, lo + kAttnKeysAhead); jj++) PrefetchKvRow(K[jj], D);
  for (; j + 4 <= hi; j += 4) {
    if (prefetch)
      for (int u = 0; u < 4; u++) {
        if (j + kAttnKeysAhead + u < hi) PrefetchKvRow(K[j + kAttnKeysAhead + u], D);
        PrefetchKvRow(V[j + u], D);
      }
    const T* k0 = K[j];
    const T* k1 = K[j + 1];
    const T* k2 = K[j + 2];
    const T* k3 = K[j + 3];
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int t = 0; t < D; t += 8) {
      const __m256 x = _mm256_loadu_ps(qa + t), y = _mm256_loadu_ps(qb + t);
      const __m256 c0 = Load8(k0 + t), c1 = Load8(k1 + t), c2 = Load8(k2 + t), c3 = Load8(k3 + t);
      a0 = _mm256_fmadd_ps(x, c0, a0);
      a1 = _mm256_fmadd_ps(x, c1, a1);
      a2 = _mm256_fmadd_ps(x, c2, a2);
      a3 = _mm256_fmadd_ps(x, c3, a3);
      b0 = _mm256_fmadd_ps(y, c0, b0);
      b1 = _mm256_fmadd_ps(y, c1, b1);
      b2 = _mm256_fmadd_ps(y, c2, b2);
      b3 = _mm256_fmadd_ps(y, c3, b3);
    }
    _mm_storeu_ps(sa + j, HorizontalSum4(a0, a1, a2, a3));
    _mm_storeu_ps(sb + j, HorizontalSum4(b0, b1, b2, b3));
  }
  for (; j < hi; j++) {
    if (prefetch) PrefetchKvRow(V[j], D);
    __m256 x = _mm256_setzero_ps(), y = _mm256_setzero_ps();
    for (int t = 0; t < D; t += 8) {
      const __m256 c = Load8(K[j] + t);
      x = _mm256_fmadd_ps(_mm256_loadu_ps(qa + t), c, x);
      y = _mm256_fmadd_ps(_mm256_loadu_ps(qb + t), c, y);
    }
    sa[j] = HorizontalSum(x);
    sb[j] = HorizontalSum(y);
  }
  Softmax(sa, lo, hi, &a.m[i], &a.d[i]);
  Softmax(sb, lo, hi, &a.m[i + 1], &a.d[i + 1]);
  float* oa = a.o + i * D;
  float* ob = oa + D;
  int t = 0;
  for (; t + 32 <= D; t += 32) {
    __m256 x0 = _mm256_setzero_ps(), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
    for (int jj = lo; jj < hi; jj++) {
      const T* vj = V[jj] + t;
      const __m256 v0 = Load8(vj), v1 = Load8(vj + 8), v2 = Load8(vj + 16), v3 = Load8(vj + 24);
      const __m256 pa = _mm256_set1_ps(sa[jj]), pb = _mm256_set1_ps(sb[jj]);
      x0 = _mm256_fmadd_ps(pa, v0, x0);
      x1 = _mm256_fmadd_ps(pa, v1, x1);
      x2 = _mm256_fmadd_ps(pa, v2, x2);
      x3 = _mm256_fmadd_ps(pa, v3, x3);
      y0 = _mm256_fmadd_ps(pb, v0, y0);
      y1 = _mm256_fmadd_ps(pb, v1, y1);
      y2 = _mm256_fmadd_ps(pb, v2, y2);
      y3 = _mm256_fmadd_ps(pb, v3, y3);
    }
    _mm256_storeu_ps(oa + t, x0);
    _mm256_storeu_ps(oa + t + 8, x1);
    _mm256_storeu_ps(oa + t + 16, x2);
    _mm256_storeu_ps(oa + t + 24, x3);
    _mm256_storeu_ps(ob + t, y0);
    _mm256_storeu_ps(ob + t + 8, y1);
    _mm256_storeu_ps(ob + t + 16, y2);
    _mm256_storeu_ps(ob + t + 24, y3);
  }
  for (; t < D; t += 8) {
    __m256 x = _mm256_setzero_ps(), y = _mm256_setzero_ps();
    for (int jj = lo; jj < hi; jj++) {
      const __m256 v = Load8(V[jj] + t);
      x = _mm256_fmadd_ps(_mm256_set1_ps(sa[jj]), v, x);
      y = _mm256_fmadd_ps(_mm256_set1_ps(sb[jj]), v, y);
    }
    _mm256_storeu_ps(oa + t, x);
    _mm256_storeu_ps(ob + t, y);
  }
}

template <typename T>
void ItemRows(const AttnItemArgs& a) {
  for (int r = 0; r < a.rows; r++) {
    const int lo = a.lo[r], hi = a.hi[r];
    const int64_t i0 = static_cast<int64_t>(r) * a.group;
    if (lo >= hi) {
      for (int g = 0; g < a.group; g++) EmptyState(a, i0 + g);
      continue;
    }
    int g = 0;
    for (; g + 2 <= a.group; g += 2) QueryPair<T>(a, i0 + g, lo, hi, g == 0);
    if (g < a.group) Query<T>(a, i0 + g, lo, hi);
  }
}

void ItemAvx2(const AttnItemArgs& a) {
  if (a.head_dim % 8 != 0) {
    AttnItemScalar()(a);
    return;
  }
  if (a.kv_bf16) ItemRows<uint16_t>(a); else ItemRows<float>(a);
}

// Scores, softmax and output of NQ query vectors [i0, i0 + NQ) of a block item. kt: [D, n16] keys
// transposed (zero columns past n); vc: [n, D] values packed; S: [NQ, n16] scratch.
template <int NQ>
inline void BlockRows(const AttnItemArgs& a, int64_t i0, const float* kt, const float* vc, int n16, float* S) {
  const int D = a.head_dim;
  const float* q = a.q + i0 * D;
  // scores = q · Kᵀ, 16 keys per pass: 2 key loads and NQ broadcasts feed 2·NQ FMAs
  for (int t = 0; t < n16; t += 16) {
    __m256 acc[NQ][2];
#pragma GCC unroll 4
    for (int qi = 0; qi < NQ; qi++) acc[qi][0] = acc[qi][1] = _mm256_setzero_ps();
    for (int d = 0; d < D; d++) {
      const __m256 k0 = _mm256_loadu_ps(kt + d * n16 + t), k1 = _mm256_loadu_ps(kt + d * n16 + t + 8);
#pragma GCC unroll 4
      for (int qi = 0; qi < NQ; qi++) {
        const __m256 b = _mm256_broadcast_ss(q + qi * D + d);
        acc[qi][0] = _mm256_fmadd_ps(b, k0, acc[qi][0]);
        acc[qi][1] = _mm256_fmadd_ps(b, k1, acc[qi][1]);
      }
    }
#pragma GCC unroll 4
    for (int qi = 0; qi < NQ; qi++) {
      _mm256_storeu_ps(S + qi * n16 + t, acc[qi][0]);
      _mm256_storeu_ps(S + qi * n16 + t + 8, acc[qi][1]);
    }
  }
  // softmax over each query's visible keys [lo, hi); masked keys get probability 0
  int j_lo = n16, j_hi = 0;
  for (int qi = 0; qi < NQ; qi++) {
    const int64_t i = i0 + qi;
    const int r = static_cast<int>(i / a.group);
    const int lo = a.lo[r], hi = a.hi[r];
    float* row = S + qi * n16;
    if (lo >= hi) {
      std::fill(row, row + n16, 0.0f);
      a.m[i] = -INFINITY;
      a.d[i] = 0.0f;
      continue;
    }
    j_lo = std::min(j_lo, lo);
    j_hi = std::max(j_hi, hi);
    std::fill(row, row + lo, -INFINITY);
    std::fill(row + hi, row + n16, -INFINITY);
    __m256 mv = _mm256_set1_ps(-INFINITY);
    for (int j = 0; j < n16; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(row + j));
    const float mx = HorizontalMax(mv);
    const __m256 mb = _mm256_set1_ps(mx);
    __m256 sum = _mm256_setzero_ps();
    for (int j = 0; j < n16; j += 8) {
      const __m256 e = ExpNonPositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), mb));
      _mm256_storeu_ps(row + j, e);
      sum = _mm256_add_ps(sum, e);
    }
    a.m[i] = mx;
    a.d[i] = HorizontalSum(sum);
  }
  // out = P · V, 16 dims per pass: 2 value loads and NQ broadcasts feed 2·NQ FMAs
  for (int c = 0; c < D; c += 16) {
    __m256 acc[NQ][2];
#pragma GCC unroll 4
    for (int qi = 0; qi < NQ; qi++) acc[qi][0] = acc[qi][1] = _mm256_setzero_ps();
    for (int j = j_lo; j < j_hi; j++) {
      const __m256 v0 = _mm256_loadu_ps(vc + j * D + c), v1 = _mm256_loadu_ps(vc + j * D + c + 8);
#pragma GCC unroll 4
      for (int qi = 0; qi < NQ; qi++) {
        const __m256 b = _mm256_broadcast_ss(S + qi * n16 + j);
        acc[qi][0] = _mm256_fmadd_ps(b, v0, acc[qi][0]);
        acc[qi][1] = _mm256_fmadd_ps(b, v1, acc[qi][1]);
      }
    }
#pragma GCC unroll 4
    for (int qi = 0; qi < NQ; qi++) {
      _mm256_storeu_ps(a.o + (i0 + qi) * D + c, acc[qi][0]);
      _mm256_storeu_ps(a.o + (i0 + qi) * D + c + 8, acc[qi][1]);
    }
  }
}

// Keys transposed into kt [D, n16] and values packed into vc [n, D], both f32: bf16 rows are
// widened here, once per item, so the block loops read f32 only.
template <typename T>
void PackKeysValues(const AttnItemArgs& a, int n16, float* kt, float* vc) {
  const int D = a.head_dim;
  const T* const* K = reinterpret_cast<const T* const*>(a.k_rows);
  const T* const* V = reinterpret_cast<const T* const*>(a.v_rows);
  for (int j = 0; j < a.n; j++) {
    for (int d = 0; d < D; d += 8) {
      alignas(32) float k8[8];
      _mm256_store_ps(k8, Load8(K[j] + d));
      for (int e = 0; e < 8; e++) kt[(d + e) * n16 + j] = k8[e];
      _mm256_storeu_ps(vc + static_cast<int64_t>(j) * D + d, Load8(V[j] + d));
    }
  }
}

void BlockAvx2(const AttnItemArgs& a) {
  const int D = a.head_dim;
  if (D % 16 != 0) {
    ItemAvx2(a);
    return;
  }
  const int n16 = (a.n + 15) / 16 * 16;
  float* kt = a.scratch;                                     // [D, n16]
  float* vc = kt + static_cast<int64_t>(D) * kAttnItemKeys;  // [n, D]
  float* S = vc + static_cast<int64_t>(D) * kAttnItemKeys;   // [4, n16]
  if (a.kv_bf16) PackKeysValues<uint16_t>(a, n16, kt, vc); else PackKeysValues<float>(a, n16, kt, vc);
  for (int j = a.n; j < n16; j++)
    for (int d = 0; d < D; d++) kt[d * n16 + j] = 0.0f;
  const int64_t nq = static_cast<int64_t>(a.rows) * a.group;
  int64_t i = 0;
  for (; i + 4 <= nq; i += 4) BlockRows<4>(a, i, kt, vc, n16, S);
  for (; i < nq; i++) BlockRows<1>(a, i, kt, vc, n16, S);
}

}  // namespace

AttnItemFn AttnItemAvx2() { return ItemAvx2; }
AttnItemFn AttnItemBlockAvx2() { return BlockAvx2; }

}  // namespace tt
