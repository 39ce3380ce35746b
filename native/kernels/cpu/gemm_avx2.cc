// AVX2 + FMA + F16C GEMM variant (compiled with those flags only; see native/sources.json). The loop
// structure is GemmTiled (gemm_tiled.h); this file says how one 8-lane step loads and multiplies.
#include <immintrin.h>

#include "gemm.h"
#include "gemm_tiled.h"

namespace tt {

namespace {

struct Avx2Traits {
  using XT = float;
  using Acc = __m256;   // 8 f32 partial sums along k
  using XVec = __m256;  // 8 consecutive k of one X row
  using WVec = __m256;  // 8 consecutive k of one W row, widened to f32
  static constexpr int kStep = 8;

  static Acc Zero() { return _mm256_setzero_ps(); }
  static XVec LoadX(const float* p) { return _mm256_loadu_ps(p); }

  template <DType WD>
  static WVec LoadW(const WElem<WD>* p) {
    if constexpr (WD == DType::kF32) {
      return _mm256_loadu_ps(p);
    } else if constexpr (WD == DType::kF16) {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    } else {
      // bf16 is the top half of an f32: zero-extend to 32 bits and shift into place.
      const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
      return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
    }
  }

  static Acc Dot(Acc acc, XVec x, WVec w) { return _mm256_fmadd_ps(x, w, acc); }

  // In the order Sum4 gives each of its sums, ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)): an
  // output is then the same whether its tile reduces it alone or with three others, so it does not
  // depend on the tile shape, hence on how many X rows share the call (a prompt's last row equals the
  // same row decoded alone, as on AVX-512). The lanes-halves-first order differed from it in the last bit.
  static float Sum(Acc a) {
    const __m256 pairs = _mm256_hadd_ps(a, a);       // [a0+a1, a2+a3, .. | a4+a5, a6+a7, ..]
    const __m256 quads = _mm256_hadd_ps(pairs, pairs);  // [(a0+a1)+(a2+a3), .. | (a4+a5)+(a6+a7), ..]
    return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(quads), _mm256_extractf128_ps(quads, 1)));
  }

  // Three horizontal adds fold four accumulators into [Σa, Σb, Σc, Σd] (per 128-bit half), and one
  // add joins the halves: a third of the work of four separate sums.
  static void Sum4(Acc a, Acc b, Acc c, Acc d, float* out) {
    const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
};

// Gemm() has already rounded X to bf16 for Precision::kBF16, so both precisions run the f32 math.
void BlockAvx2(const GemmParams& p, int64_t n0, int64_t n1) {
  switch (p.w_dtype) {
    case DType::kF32: return GemmTiled<Avx2Traits, DType::kF32>(p, p.x, p.lda, n0, n1);
    case DType::kF16: return GemmTiled<Avx2Traits, DType::kF16>(p, p.x, p.lda, n0, n1);
    case DType::kBF16: return GemmTiled<Avx2Traits, DType::kBF16>(p, p.x, p.lda, n0, n1);
    default: return;  // quantized weights go to gemm_quant_avx2.cc
  }
}

}  // namespace

GemmBlockFn GemmBlockAvx2() { return BlockAvx2; }

}  // namespace tt
