// AVX512_BF16 GEMM variant (compiled with avx512 + avx512bf16 flags; see native/sources.json). Only
// BF16 weights in Precision::kBF16 take the dot-product path; everything else is the avx512 variant.
//
// vdpbf16ps: acc[l] += x[2l]·w[2l] + x[2l+1]·w[2l+1] for 16 f32 lanes l, i.e. one step eats 32
// consecutive k of an X row and a W row. In the NT layout both rows are already consecutive in k, so
// the bf16 pairs need no repacking: Gemm() hands over X as bf16 bits once per call (x_bf16) and the
// shared driver (gemm_tiled.h) runs with 32-wide steps. The horizontal sum at the end adds the pairs'
// lanes back together, so the result is the same dot product in another summation order.
// GCC 12's _mm512_undefined_* helpers self-initialise on purpose and trip -Wuninitialized at every
// inlined use (GCC PR 105593, fixed in later releases); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "gemm.h"
#include "gemm_panels.h"
#include "gemm_tiled.h"

namespace tt {

namespace {

struct Avx512Bf16Traits {
  using XT = uint16_t;   // X as bf16 bits
  using Acc = __m512;    // 16 f32 partial sums, each over a pair of k
  using XVec = __m512bh; // 32 consecutive k of one X row
  using WVec = __m512bh; // 32 consecutive k of one W row
  static constexpr int kStep = 32;

  static Acc Zero() { return _mm512_setzero_ps(); }
  static XVec LoadX(const uint16_t* p) { return reinterpret_cast<XVec>(_mm512_loadu_si512(p)); }

  template <DType WD>
  static WVec LoadW(const WElem<WD>* p) {
    static_assert(WD == DType::kBF16, "the dot-product path reads bf16 weights only");
    return reinterpret_cast<WVec>(_mm512_loadu_si512(p));
  }

  static Acc Dot(Acc acc, XVec x, WVec w) { return _mm512_dpbf16_ps(acc, x, w); }

  static float Sum(Acc a) { return _mm512_reduce_add_ps(a); }

  // The four sums folded together: pairs of vectors interleave and add until each 128-bit lane
  // holds one partial sum of each input, then the four lanes add up (11 shuffles and adds, where four
  // separate reductions take about 28).
  static void Sum4(Acc a, Acc b, Acc c, Acc d, float* out) {
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));  // a b a b per lane
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    const __m512 abcd = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))),
                                      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(ab), _mm512_castps_pd(cd))));
    const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(abcd), _mm512_extractf32x8_ps(abcd, 1));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1)));
  }
};

void BlockAvx512Bf16(const GemmParams& p, int64_t n0, int64_t n1) {
  if (p.w_dtype == DType::kBF16 && p.precision == Precision::kBF16 && p.x_panels != nullptr)
    return GemmPanelsAvx512Bf16(p, n0, n1);
  if (p.w_dtype == DType::kBF16 && p.precision == Precision::kBF16 && p.x_bf16 != nullptr)
    return GemmTiled<Avx512Bf16Traits, DType::kBF16>(p, p.x_bf16, p.k, n0, n1);
  GemmBlockAvx512()(p, n0, n1);
}

}  // namespace

GemmBlockFn GemmBlockAvx512Bf16() { return BlockAvx512Bf16; }

}  // namespace tt
