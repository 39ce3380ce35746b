// AVX-512 inner loop of the FMA peak benchmark (compiled with avx512 flags; see native/sources.json).
// The mirror of bench_avx2.cc's FmaLoop with zmm registers.
#include <immintrin.h>

#include "bench_machine.h"

namespace tt {

namespace {

double FmaLoop(int64_t iters, float* sink) {
  const __m512 mul = _mm512_set1_ps(0.9999f), add = _mm512_set1_ps(0.0001f);
  __m512 a[12];
  for (int c = 0; c < 12; c++) a[c] = _mm512_set1_ps(0.001f * c);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int c = 0; c < 12; c++) a[c] = _mm512_fmadd_ps(a[c], mul, add);
  }
  __m512 s = a[0];
  for (int c = 1; c < 12; c++) s = _mm512_add_ps(s, a[c]);
  *sink = _mm512_cvtss_f32(s);
  return static_cast<double>(iters) * 12 * 16 * 2;
}

}  // namespace

FmaLoopFn FmaLoopAvx512() { return FmaLoop; }

}  // namespace tt
