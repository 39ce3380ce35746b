// AVX2 inner loops of the machine-limit benchmarks (compiled with avx2 flags; see native/sources.json).
#include <immintrin.h>

#include "bench_machine.h"

namespace tt {

namespace {

// 12 chains: FMA latency (4-5 cycles) × 2 FMA ports needs at least 10 in flight to saturate.
double FmaLoop(int64_t iters, float* sink) {
  const __m256 mul = _mm256_set1_ps(0.9999f), add = _mm256_set1_ps(0.0001f);
  __m256 a[12];
  for (int c = 0; c < 12; c++) a[c] = _mm256_set1_ps(0.001f * c);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int c = 0; c < 12; c++) a[c] = _mm256_fmadd_ps(a[c], mul, add);
  }
  __m256 s = a[0];
  for (int c = 1; c < 12; c++) s = _mm256_add_ps(s, a[c]);
  *sink = _mm256_cvtss_f32(s);
  return static_cast<double>(iters) * 12 * 8 * 2;
}

// Four streams a quarter of the slice apart, one 32-byte load from each per round into its own
// accumulator: several sequential streams keep more cache-line misses in flight than one (a GEMM
// tile reads several W rows at once too), and the add latency never stalls the loads.
float ReadLoop(const float* p, int64_t n) {
  const int64_t q = n / 4 / 8 * 8;  // floats per stream, whole vectors
  const float* s0p = p;
  const float* s1p = p + q;
  const float* s2p = p + 2 * q;
  const float* s3p = p + 3 * q;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < q; i += 8) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(s0p + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(s1p + i));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(s2p + i));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(s3p + i));
  }
  float tail = 0.f;
  for (int64_t i = 4 * q; i < n; i++) tail += p[i];
  const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7] + tail;
}

// The same four streams, each prefetched 2 KiB ahead of itself as the packed weight kernels do. On an
// idle host the two loops read alike; while other tenants load the memory system, the hardware
// prefetchers alone read less than the kernels stream (a decode step at batch 1 once streamed its
// weights at 1.26x what the plain loop measured around it), so the faster of the two is the limit.
float ReadLoopPrefetch(const float* p, int64_t n) {
  constexpr int64_t kAhead = 512;  // floats: 2 KiB
  const int64_t q = n / 4 / 16 * 16;  // floats per stream, whole cache lines
  const float* s0p = p;
  const float* s1p = p + q;
  const float* s2p = p + 2 * q;
  const float* s3p = p + 3 * q;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < q; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(s0p + i + kAhead), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(s1p + i + kAhead), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(s2p + i + kAhead), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(s3p + i + kAhead), _MM_HINT_T0);
    s0 = _mm256_add_ps(s0, _mm256_add_ps(_mm256_loadu_ps(s0p + i), _mm256_loadu_ps(s0p + i + 8)));
    s1 = _mm256_add_ps(s1, _mm256_add_ps(_mm256_loadu_ps(s1p + i), _mm256_loadu_ps(s1p + i + 8)));
    s2 = _mm256_add_ps(s2, _mm256_add_ps(_mm256_loadu_ps(s2p + i), _mm256_loadu_ps(s2p + i + 8)));
    s3 = _mm256_add_ps(s3, _mm256_add_ps(_mm256_loadu_ps(s3p + i), _mm256_loadu_ps(s3p + i + 8)));
  }
  float tail = 0.f;
  for (int64_t i = 4 * q; i < n; i++) tail += p[i];
  const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7] + tail;
}

}  // namespace

FmaLoopFn FmaLoopAvx2() { return FmaLoop; }
ReadLoopFn ReadLoopAvx2() { return ReadLoop; }
ReadLoopFn ReadLoopPrefetchAvx2() { return ReadLoopPrefetch; }

}  // namespace tt
