#include "bench_machine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

namespace tt {

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Portable fallback with the same shape as the SIMD loops: 12 independent scalar chains.
double FmaLoopScalar(int64_t iters, float* sink) {
  float a[12];
  for (int c = 0; c < 12; c++) a[c] = 0.001f * c;
  for (int64_t it = 0; it < iters; it++)
    for (int c = 0; c < 12; c++) a[c] = a[c] * 0.9999f + 0.0001f;
  float s = 0.f;
  for (int c = 0; c < 12; c++) s += a[c];
  *sink = s;
  return static_cast<double>(iters) * 12 * 2;
}

float ReadLoopScalar(const float* p, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int c = 0; c < 8; c++) s[c] += p[i + c];
  for (; i < n; i++) s[0] += p[i];
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

// The widest loop of `precision` at or below `widest` that this build and host have.
FmaLoopFn PickFmaLoop(Precision precision, Isa widest) {
  const auto usable = [&](Isa isa) { return static_cast<int>(isa) <= static_cast<int>(widest) && IsaSupported(isa); };
  if (precision == Precision::kBF16 && usable(Isa::kAvx512Bf16) && DotLoopAvx512Bf16()) return DotLoopAvx512Bf16();
  if (usable(Isa::kAvx512) && FmaLoopAvx512()) return FmaLoopAvx512();
  if (usable(Isa::kAvx2) && FmaLoopAvx2()) return FmaLoopAvx2();
  return FmaLoopScalar;
}

// Runs fn(thread) on every pool thread (or inline without a pool) and returns the wall time.
double TimeOnAllThreads(ThreadPool* pool, const std::function<void(int)>& fn) {
  const double t0 = Now();
  if (pool) pool->Run([&](int t, int) { fn(t); }); else fn(0);
  return Now() - t0;
}

// The plain read loop and the prefetching one, measured pass by pass in turn (so both see the same
// minutes of a shared host) and judged by the faster; without AVX2, the scalar loop alone.
struct ReadLoops {
  ReadLoopFn loop[2] = {ReadLoopScalar, nullptr};
  int count = 1;
};
ReadLoops PickReadLoops() {
  ReadLoops r;
  if (IsaSupported(Isa::kAvx2) && ReadLoopAvx2() && ReadLoopPrefetchAvx2()) r = {{ReadLoopAvx2(), ReadLoopPrefetchAvx2()}, 2};
  return r;
}

// One pool region reading floats [0, n) of p, each thread a disjoint slice (sinks: 16 floats a
// thread); returns its wall time.
double ReadSlices(ThreadPool* pool, ReadLoopFn loop, const float* p, int64_t n, std::vector<float>* sinks) {
  const int threads = pool ? pool->size() : 1;
  return TimeOnAllThreads(pool, [&](int t) {
    const int64_t b = n * t / threads, e = n * (t + 1) / threads;
    (*sinks)[t * 16] += loop(p + b, e - b);
  });
}

int64_t RoundUp64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

double MeasureFmaPeak(Precision precision, ThreadPool* pool, double min_seconds, Isa widest) {
  const FmaLoopFn loop = PickFmaLoop(precision, widest);
  const int threads = pool ? pool->size() : 1;
  std::vector<float> sinks(threads * 16);  // a cache line apart, so threads do not share one
  std::vector<double> flops(threads);
  int64_t iters = 1 << 14;
  for (;;) {
    const double dt = TimeOnAllThreads(pool, [&](int t) { flops[t] = loop(iters, &sinks[t * 16]); });
    if (dt >= min_seconds) {
      double total = 0;
      for (double f : flops) total += f;
      return total / dt / 1e9;
    }
    // Aim past the threshold in one more round once the timing is large enough to extrapolate from.
    iters = dt > 1e-3 ? static_cast<int64_t>(iters * (1.2 * min_seconds / dt)) + 1 : iters * 8;
  }
}

double MeasureReadBandwidth(const float* buffer, int64_t bytes, ThreadPool* pool, double min_seconds) {
  const ReadLoops loops = PickReadLoops();
  const int64_t n = bytes / 4;
  std::vector<float> sinks((pool ? pool->size() : 1) * 16);
  auto pass = [&](ReadLoopFn loop) { return ReadSlices(pool, loop, buffer, n, &sinks); };
  pass(loops.loop[0]);  // warm-up: page tables, clocks
  double elapsed[2] = {0, 0};
  int64_t passes[2] = {0, 0};
  while (elapsed[0] < min_seconds / loops.count || (loops.count == 2 && elapsed[1] < min_seconds / 2)) {
    for (int l = 0; l < loops.count; l++) {
      elapsed[l] += pass(loops.loop[l]);
      passes[l]++;
    }
  }
  double best = 0;
  for (int l = 0; l < loops.count; l++) best = std::max(best, static_cast<double>(n) * 4 * passes[l] / elapsed[l] / 1e9);
  return best;
}

int64_t CallsBufferBytes(const std::vector<int64_t>& call_bytes) {
  int64_t total = 0;
  for (int64_t b : call_bytes) total += RoundUp64(b);
  return total;
}

CallsReadBandwidth MeasureCallsReadBandwidth(const float* buffer, const std::vector<int64_t>& call_bytes, ThreadPool* pool,
                                             double min_seconds) {
  const ReadLoops loops = PickReadLoops();
  std::vector<float> sinks((pool ? pool->size() : 1) * 16);
  std::vector<int64_t> starts;  // in floats
  int64_t read = 0, at = 0;
  for (int64_t b : call_bytes) {
    starts.push_back(at / 4);
    read += b / 4 * 4;
    at += RoundUp64(b);
  }
  const int64_t whole_floats = at / 4;
  // The calls' floats without the gaps between regions would be the same bytes; reading the gaps too
  // (under 64 bytes a call) changes nothing measurable, so one range covers the buffer.
  auto whole = [&](ReadLoopFn loop) { return ReadSlices(pool, loop, buffer, whole_floats, &sinks); };
  auto calls = [&](ReadLoopFn loop) {
    const double t0 = Now();
    for (size_t i = 0; i < call_bytes.size(); i++) ReadSlices(pool, loop, buffer + starts[i], call_bytes[i] / 4, &sinks);
    return Now() - t0;
  };
  whole(loops.loop[0]);  // warm-up: page tables, clocks
  double elapsed[2][2] = {{0, 0}, {0, 0}};  // [mode][loop]
  int64_t passes[2][2] = {{0, 0}, {0, 0}};
  auto enough = [&] {
    for (int m = 0; m < 2; m++)
      for (int l = 0; l < loops.count; l++)
        if (elapsed[m][l] < min_seconds / 4) return false;
    return true;
  };
  while (!enough()) {
    for (int l = 0; l < loops.count; l++) {
      elapsed[0][l] += whole(loops.loop[l]);
      passes[0][l]++;
      elapsed[1][l] += calls(loops.loop[l]);
      passes[1][l]++;
    }
  }
  const double bytes[2] = {static_cast<double>(whole_floats * 4), static_cast<double>(read)};
  double best[2] = {0, 0};
  for (int m = 0; m < 2; m++)
    for (int l = 0; l < loops.count; l++) best[m] = std::max(best[m], bytes[m] * passes[m][l] / elapsed[m][l] / 1e9);
  return {best[0], best[1]};
}

double SecondsPerCall(const std::function<void(int64_t)>& call, int64_t min_calls, double min_seconds) {
  call(0);
  int64_t calls = 0;
  const double t0 = Now();
  double elapsed = 0;
  while (calls < min_calls || elapsed < min_seconds) {
    call(1 + calls++);
    elapsed = Now() - t0;
  }
  return elapsed / static_cast<double>(calls);
}

}  // namespace tt
