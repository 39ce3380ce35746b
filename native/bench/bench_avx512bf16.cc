// AVX512_BF16 inner loop of the bf16 dot-product peak (compiled with avx512bf16 flags; see
// native/sources.json). One vdpbf16ps does 16 lanes × 2 bf16 products, each a multiply and an add:
// 64 flops.
#include <immintrin.h>

#include "bench_machine.h"

namespace tt {

namespace {

double DotLoop(int64_t iters, float* sink) {
  // bf16 0x3f80 = 1.0 and 0x3a83 ≈ 0.001: the chains grow by a bounded amount per round.
  const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3a83));
  const __m512bh w = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));
  __m512 a[12];
  for (int c = 0; c < 12; c++) a[c] = _mm512_set1_ps(0.001f * c);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int c = 0; c < 12; c++) a[c] = _mm512_dpbf16_ps(a[c], x, w);
  }
  __m512 s = a[0];
  for (int c = 1; c < 12; c++) s = _mm512_add_ps(s, a[c]);
  *sink = _mm512_cvtss_f32(s);
  return static_cast<double>(iters) * 12 * 16 * 2 * 2;
}

}  // namespace

FmaLoopFn DotLoopAvx512Bf16() { return DotLoop; }

}  // namespace tt
