// Decoding Q8_0 and Q4_0 rows straight to bf16 for the many-rows quantized GEMM (gemm.cc
// GemmDecodedSlices) with AVX-512 BF16: 16 lanes of d · q in one multiply and 32 bf16 in one
// vcvtne2ps2bf16 (round to nearest even, as F32ToBf16), about five times fewer instructions than the
// AVX2 decoder's integer rounding; at batch 16 the decode otherwise costs more than the GEMM after it.
// Compiled with the avx512bf16 flags (native/sources.json); the K-quants and f32 output take the
// AVX-512 decoder.
// GCC 12's _mm512_undefined_* helpers trip -Wuninitialized at every inlined use (see gemm_avx512bf16.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "../common/quant_blocks.h"
#include "gemm_quant.h"

namespace tt {

namespace {

// 32 signed bytes times `scale` to 32 bf16 at out (decoded weights are never subnormal in f32, so the
// instruction's flushing of subnormals never applies).
inline void Emit32(__m256i q, __m512 scale, uint16_t* out) {
  const __m512 lo = _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))));
  const __m512 hi = _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))));
  _mm512_storeu_si512(out, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
}

void DecodeBf16(DType type, const uint8_t* row, int64_t k, float* f32, uint16_t* bf16) {
  if (f32 != nullptr || (type != DType::kQ8_0 && type != DType::kQ4_0)) return QuantDecodeAvx512()(type, row, k, f32, bf16);
  if (type == DType::kQ8_0) {
    const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(row);
    for (int64_t b = 0; b < k / 32; b++)
      Emit32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs)), _mm512_set1_ps(_cvtsh_ss(w[b].d)), bf16 + 32 * b);
    return;
  }
  const BlockQ4_0* w = reinterpret_cast<const BlockQ4_0*>(row);
  const __m128i m = _mm_set1_epi8(0x0F);
  for (int64_t b = 0; b < k / 32; b++) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
    const __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), m), _mm_and_si128(bytes, m));
    Emit32(_mm256_sub_epi8(q, _mm256_set1_epi8(8)), _mm512_set1_ps(_cvtsh_ss(w[b].d)), bf16 + 32 * b);
  }
}

}  // namespace

QuantDecodeFn QuantDecodeAvx512Bf16() { return DecodeBf16; }

}  // namespace tt
