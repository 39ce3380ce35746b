// RMSNorm's sum of squares on AVX2 lanes (compiled with the avx2 flags; norm.cc dispatches on the
// host). The sum stays in double, as the scalar loop keeps it, but in 8 double lanes instead of one
// dependent chain: the scalar loop could not be vectorised (reordering double adds needs
// -ffast-math) and cost about a nanosecond per element, i.e. milliseconds per decode step at batch 64.
#include <immintrin.h>

#include "norm.h"

namespace tt {

double SumSquaresAvx2(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
    const __m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
    a0 = _mm256_fmadd_pd(lo, lo, a0);
    a1 = _mm256_fmadd_pd(hi, hi, a1);
  }
  const __m256d a = _mm256_add_pd(a0, a1);
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  double ss = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  for (; i < n; i++) ss += static_cast<double>(x[i]) * x[i];
  return ss;
}

}  // namespace tt
