// AVX-512 VNNI quantized GEMM: the byte dot in one vpdpbusd (u8 × s8, four products summed into each
// i32 lane, no intermediate saturation) instead of vpmaddubsw + vpmaddwd. Compiled with -mavx512vnni
// (native/sources.json "avx512vnni"); Gemm() runs it only where the CPU reports AVX512_VNNI.
#include "gemm_quant_simd.h"

namespace tt {

namespace {

struct VnniDot {
  static __m256i Dot(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
};

void Block(const GemmParams& p, int64_t n0, int64_t n1) { QuantGemmSimd<VnniDot>(p, n0, n1); }

}  // namespace

QuantBlockFn QuantBlockAvx512Vnni() { return Block; }

}  // namespace tt
