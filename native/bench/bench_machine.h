// Machine-limit measurements for `thinktree bench`: the fused multiply-add peak and the memory read
// bandwidth, measured on this host with the same thread pool the kernels use, so GEMM throughput can
// be reported as a fraction of what the machine can do. The inner loops live in per-ISA files
// (bench_avx2.cc, bench_avx512.cc, bench_avx512bf16.cc); this header and bench_machine.cc are portable.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "../kernels/common/dtype.h"
#include "../platform/cpu_features.h"
#include "../platform/thread_pool.h"

namespace tt {

// `iters` rounds of independent multiply-add chains held in registers; returns the flops done and
// writes a value derived from every chain to *sink so none can be optimised away.
using FmaLoopFn = double (*)(int64_t iters, float* sink);
// Sums floats [0, n) of p with enough independent accumulators to keep the loads in flight.
using ReadLoopFn = float (*)(const float* p, int64_t n);

// Per-ISA loops; null where the variant does not exist in this build.
FmaLoopFn FmaLoopAvx2();        // 12 chains of _mm256_fmadd_ps: 12 · 8 lanes · 2 flops per round
FmaLoopFn FmaLoopAvx512();      // 12 chains of _mm512_fmadd_ps: 12 · 16 · 2
FmaLoopFn DotLoopAvx512Bf16();  // 12 chains of _mm512_dpbf16_ps: 12 · 16 lanes · 2 pairs · 2
ReadLoopFn ReadLoopAvx2();
ReadLoopFn ReadLoopPrefetchAvx2();  // the same streams, software-prefetched ahead

// GFLOP/s of all pool threads together. kF32: the widest f32 FMA the host has (zmm with AVX-512,
// else ymm, else scalar). kBF16: vdpbf16ps where the host has AVX512_BF16, else the f32 figure,
// since that is what bf16 GEMMs run at there. `widest` caps the ISA: Isa::kAvx2 measures the ymm
// peak the AVX2 kernels run against, also on an AVX-512 host. Calibrates itself to at least
// `min_seconds`.
double MeasureFmaPeak(Precision precision, ThreadPool* pool, double min_seconds, Isa widest = Isa::kAvx512Bf16);

// GB/s (1e9 bytes) reading `buffer` [bytes / 4 floats] with all pool threads, each a disjoint slice:
// the faster of a plain read and a software-prefetched one, in alternate whole passes until each has
// run at least `min_seconds` / 2.
double MeasureReadBandwidth(const float* buffer, int64_t bytes, ThreadPool* pool, double min_seconds);

// The read bandwidth of a call pattern against one long read of the same bytes. Call i reads
// call_bytes[i] bytes of `buffer` (the calls' regions follow one another, each starting on a 64-byte
// boundary: CallsBufferBytes long), in one pool region with each thread a disjoint slice, as a decode
// step's GEMM calls read their weight matrices (Weights::StepGemmBytes). The whole-buffer read and the
// calls alternate pass by pass, so both see the same seconds of a shared host; each takes the faster
// of MeasureReadBandwidth's two loops, each loop running at least `min_seconds` / 4 per mode. Their
// ratio is what the pattern alone costs the memory system, before any arithmetic.
struct CallsReadBandwidth {
  double whole_gbps = 0;  // one region over the whole buffer
  double calls_gbps = 0;  // one region per call
};
int64_t CallsBufferBytes(const std::vector<int64_t>& call_bytes);
CallsReadBandwidth MeasureCallsReadBandwidth(const float* buffer, const std::vector<int64_t>& call_bytes, ThreadPool* pool,
                                             double min_seconds);

// Seconds per call of `call(i)` (i counts calls from 0) after one warm-up call: runs until at least
// `min_calls` calls and `min_seconds` have passed, and averages over all timed calls.
double SecondsPerCall(const std::function<void(int64_t)>& call, int64_t min_calls, double min_seconds);

}  // namespace tt
