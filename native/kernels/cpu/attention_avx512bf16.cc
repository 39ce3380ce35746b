// AVX512_BF16 block item for bf16 pages (compiled with avx512bf16 flags; see native/sources.json):
// the scores q · Kᵀ run on vdpbf16ps straight from the bf16 key rows, two head dims per lane per
// instruction, half the f32 FMAs' work. The queries are rounded to bf16 for it (the keys already
// are), a relative error of 2^-9 per query element, the same order as the bf16 KV cache's own; the
// softmax and P · V stay f32 (attention_avx512_simd.h). f32 pages, head sizes that are not a multiple
// of 16 and head sizes above kMaxHeadDim go to the AVX-512 block item, which is exact in f32.
// GCC 12's _mm512_undefined_* helpers self-initialise on purpose and trip -Wuninitialized at every
// inlined use (GCC PR 105593, fixed in later releases); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "../common/math.h"
#include "attention_avx512_simd.h"

namespace tt {

namespace {

using namespace attn512;  // NOLINT: the shared AVX-512 helpers

// Largest head size whose bf16 query pairs fit the per-block stack buffer.
constexpr int kMaxHeadDim = 512;

// Scores, softmax and output of NQ query vectors [i0, i0 + NQ). kp: [D / 2, n32] key pairs, one
// uint32 per (key, pair of head dims): the layout vdpbf16ps multiplies lane by lane (zero past n).
template <int NQ>
void BlockRows(const AttnItemArgs& a, int64_t i0, const uint32_t* kp, const float* vc, int n32, float* S) {
  const int D = a.head_dim, pairs = D / 2;
  alignas(64) uint32_t qp[NQ * kMaxHeadDim / 2];  // the queries' bf16 pairs, low half the even dim
  for (int qi = 0; qi < NQ; qi++) {
    const float* q = a.q + (i0 + qi) * D;
    for (int e = 0; e < pairs; e++)
      qp[qi * pairs + e] = static_cast<uint32_t>(F32ToBf16(q[2 * e])) | static_cast<uint32_t>(F32ToBf16(q[2 * e + 1])) << 16;
  }
  // 32 keys per pass: 2 key-pair loads and NQ broadcasts feed 2·NQ vdpbf16ps
  for (int t = 0; t < n32; t += 32) {
    __m512 acc[NQ][2];
#pragma GCC unroll 8
    for (int qi = 0; qi < NQ; qi++) acc[qi][0] = acc[qi][1] = _mm512_setzero_ps();
    for (int e = 0; e < pairs; e++) {
      const __m512bh k0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(kp + e * n32 + t));
      const __m512bh k1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(kp + e * n32 + t + 16));
#pragma GCC unroll 8
      for (int qi = 0; qi < NQ; qi++) {
        const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(qp[qi * pairs + e])));
        acc[qi][0] = _mm512_dpbf16_ps(acc[qi][0], b, k0);
        acc[qi][1] = _mm512_dpbf16_ps(acc[qi][1], b, k1);
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

// Key pairs into kp [D / 2, n32]: a 32-bit transpose of the bf16 rows, 16 keys at a time through a
// [16, 16] tile so every store is a full row of kp.
void PackKeyPairs(const AttnItemArgs& a, int n32, uint32_t* kp) {
  const int pairs = a.head_dim / 2;
  const uint16_t* const* K = reinterpret_cast<const uint16_t* const*>(a.k_rows);
  alignas(64) uint32_t tile[16][16];
  const __m512i idx = _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240);
  for (int j0 = 0; j0 < n32; j0 += 16) {
    const int nj = std::min(16, a.n - j0);
    for (int e0 = 0; e0 < pairs; e0 += 16) {  // pairs % 8 == 0; a last 8-pair half is read as 16 and cut
      const int ne = std::min(16, pairs - e0);
      for (int jj = 0; jj < 16; jj++) {
        __m512i row = _mm512_setzero_si512();
        if (jj < nj) row = ne == 16 ? _mm512_loadu_si512(K[j0 + jj] + 2 * e0)
                                    : _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(K[j0 + jj] + 2 * e0)));
        _mm512_store_si512(tile[jj], row);
      }
      for (int ee = 0; ee < ne; ee++)
        _mm512_storeu_si512(kp + static_cast<int64_t>(e0 + ee) * n32 + j0, _mm512_i32gather_epi32(idx, &tile[0][ee], 4));
    }
  }
}

void BlockAvx512Bf16(const AttnItemArgs& a) {
  const int D = a.head_dim;
  if (!a.kv_bf16 || D % 16 != 0 || D > kMaxHeadDim) {
    AttnItemBlockAvx512()(a);
    return;
  }
  const int n32 = (a.n + 31) / 32 * 32;
  uint32_t* kp = reinterpret_cast<uint32_t*>(a.scratch);    // [D / 2, n32]
  float* vc = a.scratch + static_cast<int64_t>(D) * kAttnItemKeys;  // [n, D]
  float* S = vc + static_cast<int64_t>(D) * kAttnItemKeys;          // [8, n32]
  PackKeyPairs(a, n32, kp);
  PackValues<uint16_t>(a, vc);
  const int64_t nq = static_cast<int64_t>(a.rows) * a.group;
  int64_t i = 0;
  for (; i + 8 <= nq; i += 8) BlockRows<8>(a, i, kp, vc, n32, S);
  for (; i + 4 <= nq; i += 4) BlockRows<4>(a, i, kp, vc, n32, S);
  for (; i < nq; i++) BlockRows<1>(a, i, kp, vc, n32, S);
}

}  // namespace

AttnItemFn AttnItemBlockAvx512Bf16() { return BlockAvx512Bf16; }

}  // namespace tt
