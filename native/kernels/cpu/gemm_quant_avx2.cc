// AVX2 quantized GEMM (gemm_quant_simd.h): the byte dot as vpmaddubsw (pairs to i16) + vpmaddwd (to i32).
#include "gemm_quant_simd.h"
#include "quantize_acts_simd.h"

namespace tt {

namespace {

struct Avx2Dot {
  static __m256i Dot(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }
};

void Block(const GemmParams& p, int64_t n0, int64_t n1) { QuantGemmSimd<Avx2Dot>(p, n0, n1); }

}  // namespace

QuantBlockFn QuantBlockAvx2() { return Block; }
QuantDecodeFn QuantDecodeAvx2() { return DecodeRowSimd; }
QuantizeActsFn QuantizeActsAvx2() { return QuantizeActRowsSimd; }

}  // namespace tt
