// AVX-512 attention items (compiled with avx512 flags; see native/sources.json). Same arithmetic as
// the AVX2 items in attention_avx2.cc, sixteen lanes at a time, with the 32 zmm registers spent on
// more queries per key load: the per-query variant runs up to four heads of a row together, the block
// variant eight queries per block. Key and value rows are f32 or bf16 (AttnItemArgs::kv_bf16); bf16
// rows are widened as they are loaded (exact: a bf16 is the top half of an f32), so the two dtypes
// give bit-identical results over the same values. Head sizes that are not a multiple of 16 go to
// the AVX2 items.
// GCC 12's _mm512_undefined_* helpers self-initialise on purpose and trip -Wuninitialized at every
// inlined use (GCC PR 105593, fixed in later releases); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "attention_avx512_simd.h"

namespace tt {

namespace {

using namespace attn512;  // NOLINT: this file's own helpers

// NG query vectors [i, i + NG) (heads of one kv head, one row) against keys [lo, hi): every key and
// value load feeds all NG of them. Scores go to scratch rows of kAttnItemKeys + 16 floats. `prefetch`:
// this is the row's first call, which asks for its K/V rows (the calls after it find them in cache).
template <int NG, typename T>
void Queries(const AttnItemArgs& a, int64_t i, int lo, int hi, bool prefetch) {
  const int D = a.head_dim;
  const T* const* K = reinterpret_cast<const T* const*>(a.k_rows);
  const T* const* V = reinterpret_cast<const T* const*>(a.v_rows);
  const float* q = a.q + i * D;
  constexpr int kRow = kAttnItemKeys + 16;
  float* s = a.scratch;
  int j = lo;
  if (prefetch)
    for (int jj = lo; jj < std::min(hi, lo + kAttnKeysAhead); jj++) PrefetchKvRow(K[jj], D);
  for (; j + 4 <= hi; j += 4) {
    if (prefetch)
      for (int u = 0; u < 4; u++) {
        if (j + kAttnKeysAhead + u < hi) PrefetchKvRow(K[j + kAttnKeysAhead + u], D);
        PrefetchKvRow(V[j + u], D);
      }
    __m512 acc[NG][4];
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) acc[g][0] = acc[g][1] = acc[g][2] = acc[g][3] = _mm512_setzero_ps();
    for (int t = 0; t < D; t += 16) {
      const __m512 c0 = Load16(K[j] + t), c1 = Load16(K[j + 1] + t), c2 = Load16(K[j + 2] + t), c3 = Load16(K[j + 3] + t);
#pragma GCC unroll 4
      for (int g = 0; g < NG; g++) {
        const __m512 x = _mm512_loadu_ps(q + g * D + t);
        acc[g][0] = _mm512_fmadd_ps(x, c0, acc[g][0]);
        acc[g][1] = _mm512_fmadd_ps(x, c1, acc[g][1]);
        acc[g][2] = _mm512_fmadd_ps(x, c2, acc[g][2]);
        acc[g][3] = _mm512_fmadd_ps(x, c3, acc[g][3]);
      }
    }
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) _mm_storeu_ps(s + g * kRow + j, HorizontalSum4(acc[g][0], acc[g][1], acc[g][2], acc[g][3]));
  }
  for (; j < hi; j++) {
    if (prefetch) PrefetchKvRow(V[j], D);
    __m512 acc[NG];
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) acc[g] = _mm512_setzero_ps();
    for (int t = 0; t < D; t += 16) {
      const __m512 c = Load16(K[j] + t);
#pragma GCC unroll 4
      for (int g = 0; g < NG; g++) acc[g] = _mm512_fmadd_ps(_mm512_loadu_ps(q + g * D + t), c, acc[g]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) s[g * kRow + j] = HorizontalSum(acc[g]);
  }
  for (int g = 0; g < NG; g++) Softmax(s + g * kRow, lo, hi, &a.m[i + g], &a.d[i + g]);
  // out = p · V, 64 dims per pass (4 · NG accumulators), then 16 at a time
  float* o = a.o + i * D;
  int t = 0;
  for (; t + 64 <= D; t += 64) {
    __m512 acc[NG][4];
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) acc[g][0] = acc[g][1] = acc[g][2] = acc[g][3] = _mm512_setzero_ps();
    for (int jj = lo; jj < hi; jj++) {
      const T* vj = V[jj] + t;
      const __m512 v0 = Load16(vj), v1 = Load16(vj + 16), v2 = Load16(vj + 32), v3 = Load16(vj + 48);
#pragma GCC unroll 4
      for (int g = 0; g < NG; g++) {
        const __m512 p = _mm512_set1_ps(s[g * kRow + jj]);
        acc[g][0] = _mm512_fmadd_ps(p, v0, acc[g][0]);
        acc[g][1] = _mm512_fmadd_ps(p, v1, acc[g][1]);
        acc[g][2] = _mm512_fmadd_ps(p, v2, acc[g][2]);
        acc[g][3] = _mm512_fmadd_ps(p, v3, acc[g][3]);
      }
    }
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++)
      for (int u = 0; u < 4; u++) _mm512_storeu_ps(o + g * D + t + 16 * u, acc[g][u]);
  }
  for (; t < D; t += 16) {
    __m512 acc[NG];
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) acc[g] = _mm512_setzero_ps();
    for (int jj = lo; jj < hi; jj++) {
      const __m512 v = Load16(V[jj] + t);
#pragma GCC unroll 4
      for (int g = 0; g < NG; g++) acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(s[g * kRow + jj]), v, acc[g]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) _mm512_storeu_ps(o + g * D + t, acc[g]);
  }
}

template <typename T>
void ItemRows(const AttnItemArgs& a) {
  for (int r = 0; r < a.rows; r++) {
    const int lo = a.lo[r], hi = a.hi[r];
    const int64_t i0 = static_cast<int64_t>(r) * a.group;
    if (lo >= hi) {
      for (int g = 0; g < a.group; g++) {
        std::fill(a.o + (i0 + g) * a.head_dim, a.o + (i0 + g + 1) * a.head_dim, 0.0f);
        a.m[i0 + g] = -INFINITY;
        a.d[i0 + g] = 0.0f;
      }
      continue;
    }
    int g = 0;
    for (; g + 4 <= a.group; g += 4) Queries<4, T>(a, i0 + g, lo, hi, g == 0);
    switch (a.group - g) {
      case 3: Queries<3, T>(a, i0 + g, lo, hi, g == 0); break;
      case 2: Queries<2, T>(a, i0 + g, lo, hi, g == 0); break;
      case 1: Queries<1, T>(a, i0 + g, lo, hi, g == 0); break;
      default: break;
    }
  }
}

void ItemAvx512(const AttnItemArgs& a) {
  if (a.head_dim % 16 != 0) {
    AttnItemAvx2()(a);
    return;
  }
  if (a.kv_bf16) ItemRows<uint16_t>(a); else ItemRows<float>(a);
}

// Scores, softmax and output of NQ query vectors [i0, i0 + NQ) of a block item. kt: [D, n32] keys
// transposed (zero columns past n); vc: [n, D] values packed; S: [NQ, n32] scratch.
template <int NQ>
void BlockRows(const AttnItemArgs& a, int64_t i0, const float* kt, const float* vc, int n32, float* S) {
  const int D = a.head_dim;
  const float* q = a.q + i0 * D;
  // scores = q · Kᵀ, 32 keys per pass: 2 key loads and NQ broadcasts feed 2·NQ FMAs
  for (int t = 0; t < n32; t += 32) {
    __m512 acc[NQ][2];
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) acc[qi][0] = acc[qi][1] = _mm512_setzero_ps();
    for (int d = 0; d < D; d++) {
      const __m512 k0 = _mm512_loadu_ps(kt + d * n32 + t), k1 = _mm512_loadu_ps(kt + d * n32 + t + 16);
#pragma GCC unroll 8
      for (int qi = 0; qi < NQ; qi++) {
        const __m512 b = _mm512_set1_ps(q[qi * D + d]);
        acc[qi][0] = _mm512_fmadd_ps(b, k0, acc[qi][0]);
        acc[qi][1] = _mm512_fmadd_ps(b, k1, acc[qi][1]);
      }
    }
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) {
      _mm512_storeu_ps(S + qi * n32 + t, acc[qi][0]);
      _mm512_storeu_ps(S + qi * n32 + t + 16, acc[qi][1]);
    }
  }
  int j_lo = 0, j_hi = 0;
  BlockSoftmax<NQ>(a, i0, n32, S, &j_lo, &j_hi);
  BlockOutput<NQ>(a, i0, vc, n32, S, j_lo, j_hi);
}

// Keys transposed into kt [D, n32] (zero columns past n) and values packed into vc [n, D], both f32:
// bf16 rows are widened here, once per item, so the block loops read f32 only.
template <typename T>
void PackKeysValues(const AttnItemArgs& a, int n32, float* kt, float* vc) {
  const int D = a.head_dim;
  const T* const* K = reinterpret_cast<const T* const*>(a.k_rows);
  PackValues<T>(a, vc);
  // 16 keys at a time through a [16, 16] tile: gathered column-wise, so every store is a full row of kt
  alignas(64) float tile[16][16];
  for (int j0 = 0; j0 < n32; j0 += 16) {
    const int nj = std::min(16, a.n - j0);
    for (int d0 = 0; d0 < D; d0 += 16) {
      for (int jj = 0; jj < 16; jj++) {
        const __m512 row = jj < nj ? Load16(K[j0 + jj] + d0) : _mm512_setzero_ps();
        _mm512_store_ps(tile[jj], row);
      }
      const __m512i idx = _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240);
      for (int dd = 0; dd < 16; dd++)
        _mm512_storeu_ps(kt + static_cast<int64_t>(d0 + dd) * n32 + j0, _mm512_i32gather_ps(idx, &tile[0][dd], 4));
    }
  }
}

void BlockAvx512(const AttnItemArgs& a) {
  const int D = a.head_dim;
  if (D % 16 != 0) {
    AttnItemAvx2()(a);
    return;
  }
  const int n32 = (a.n + 31) / 32 * 32;
  float* kt = a.scratch;                                     // [D, n32]
  float* vc = kt + static_cast<int64_t>(D) * kAttnItemKeys;  // [n, D]
  float* S = vc + static_cast<int64_t>(D) * kAttnItemKeys;   // [8, n32]
  if (a.kv_bf16) PackKeysValues<uint16_t>(a, n32, kt, vc); else PackKeysValues<float>(a, n32, kt, vc);
  const int64_t nq = static_cast<int64_t>(a.rows) * a.group;
  int64_t i = 0;
  for (; i + 8 <= nq; i += 8) BlockRows<8>(a, i, kt, vc, n32, S);
  for (; i + 4 <= nq; i += 4) BlockRows<4>(a, i, kt, vc, n32, S);
  for (; i < nq; i++) BlockRows<1>(a, i, kt, vc, n32, S);
}

}  // namespace

AttnItemFn AttnItemAvx512() { return ItemAvx512; }
AttnItemFn AttnItemBlockAvx512() { return BlockAvx512; }

}  // namespace tt
