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

// Four streams a quarter of the slice apart, one cache line (two 32-byte loads) from each per round
// into its own accumulator: several sequential streams keep more cache-line misses in flight than one (a GEMM
// tile reads several W rows at once too), and the add latency never stalls the loads. kPrefetch: each
// stream also prefetched 2 KiB ahead of itself, as the packed weight kernels are. On an idle host the
// two read alike; while other tenants load the memory system, the hardware prefetchers alone read
// less than the kernels stream (a decode step at batch 1 once streamed its weights at 1.26x what the
// plain read measured around it), so the faster of the two is the limit (MeasureReadBandwidth).
template <bool kPrefetch>
float ReadStreams(const float* p, int64_t n) {
  constexpr int64_t kAhead = 512;     // floats: 2 KiB
  const int64_t q = n / 4 / 16 * 16;  // floats per stream, whole cache lines
  const float* sp[4] = {p, p + q, p + 2 * q, p + 3 * q};
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t i = 0; i < q; i += 16) {
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) {
      if (kPrefetch) _mm_prefetch(reinterpret_cast<const char*>(sp[s] + i + kAhead), _MM_HINT_T0);
      acc[s] = _mm256_add_ps(acc[s], _mm256_loadu_ps(sp[s] + i));
      acc[s] = _mm256_add_ps(acc[s], _mm256_loadu_ps(sp[s] + i + 8));
    }
  }
  float tail = 0.f;
  for (int64_t i = 4 * q; i < n; i++) tail += p[i];
  const __m256 s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7] + tail;
}

}  // namespace

FmaLoopFn FmaLoopAvx2() { return FmaLoop; }
ReadLoopFn ReadLoopAvx2() { return ReadStreams<false>; }
ReadLoopFn ReadLoopPrefetchAvx2() { return ReadStreams<true>; }

}  // namespace tt
