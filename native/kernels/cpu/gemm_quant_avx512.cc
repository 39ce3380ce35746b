// AVX-512 (F/BW/VL/DQ, no VNNI) quantized GEMM: the AVX2 arithmetic on 256-bit vectors, compiled with
// the AVX-512 flags so the compiler has 32 vector registers for the 4-row accumulators. 512-bit
// vectors would need a scale per 128-bit quarter and buy nothing while decode waits on memory.
#include "gemm_quant_simd.h"
#include "quantize_acts_simd.h"

namespace tt {

namespace {

struct Avx512Dot {
  static __m256i Dot(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }
};

void Block(const GemmParams& p, int64_t n0, int64_t n1) { QuantGemmSimd<Avx512Dot>(p, n0, n1); }

}  // namespace

QuantBlockFn QuantBlockAvx512() { return Block; }
QuantDecodeFn QuantDecodeAvx512() { return DecodeRowSimd; }
QuantizeActsFn QuantizeActsAvx512() { return QuantizeActRowsSimd; }

}  // namespace tt
