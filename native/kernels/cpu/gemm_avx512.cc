// AVX-512 (F/BW/VL/DQ) GEMM variant (compiled with those flags only; see native/sources.json). The
// mirror of gemm_avx2.cc with 16-lane zmm steps: same driver (gemm_tiled.h), same tile shapes, only
// the loads, the dot step and the horizontal sum differ.
// GCC 12's _mm512_undefined_* helpers self-initialise on purpose and trip -Wuninitialized at every
// inlined use (GCC PR 105593, fixed in later releases); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "gemm.h"
#include "gemm_tiled.h"

namespace tt {

namespace {

struct Avx512Traits {
  using XT = float;
  using Acc = __m512;   // 16 f32 partial sums along k
  using XVec = __m512;  // 16 consecutive k of one X row
  using WVec = __m512;  // 16 consecutive k of one W row, widened to f32
  static constexpr int kStep = 16;

  static Acc Zero() { return _mm512_setzero_ps(); }
  static XVec LoadX(const float* p) { return _mm512_loadu_ps(p); }

  template <DType WD>
  static WVec LoadW(const WElem<WD>* p) {
    if constexpr (WD == DType::kF32) {
      return _mm512_loadu_ps(p);
    } else if constexpr (WD == DType::kF16) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    } else {
      // bf16 is the top half of an f32: zero-extend to 32 bits and shift into place.
      const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
      return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
    }
  }

  static Acc Dot(Acc acc, XVec x, WVec w) { return _mm512_fmadd_ps(x, w, acc); }

  static float Sum(Acc a) { return _mm512_reduce_add_ps(a); }

  static void Sum4(Acc a, Acc b, Acc c, Acc d, float* out) {
    out[0] = Sum(a);
    out[1] = Sum(b);
    out[2] = Sum(c);
    out[3] = Sum(d);
  }
};

// Gemm() has already rounded X to bf16 for Precision::kBF16, so both precisions run the f32 math.
void BlockAvx512(const GemmParams& p, int64_t n0, int64_t n1) {
  switch (p.w_dtype) {
    case DType::kF32: return GemmTiled<Avx512Traits, DType::kF32>(p, p.x, p.lda, n0, n1);
    case DType::kF16: return GemmTiled<Avx512Traits, DType::kF16>(p, p.x, p.lda, n0, n1);
    case DType::kBF16: return GemmTiled<Avx512Traits, DType::kBF16>(p, p.x, p.lda, n0, n1);
    default: return;  // quantized weights go to gemm_quant_avx512.cc
  }
}

}  // namespace

GemmBlockFn GemmBlockAvx512() { return BlockAvx512; }

}  // namespace tt
