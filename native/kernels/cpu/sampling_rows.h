// The whole-row loops of the sampler (a max, an exp, a masked sum over all 151936 logits), compiled
// once per ISA from sampling_rows_impl.h and chosen once, at first use, for the host CPU. The filter
// logic in sampling.cc calls them through this table and never branches on the ISA itself.
#pragma once
#include <cstdint>

#include "../../platform/cpu_features.h"
#include "sampling.h"

namespace tt {

struct SamplingRowOps {
  // Largest of x[i0, i1), which holds no NaN; −inf when empty.
  float (*max)(const float* x, int64_t i0, int64_t i1);
  // Whether x[0, n) holds a NaN.
  bool (*any_nan)(const float* x, int64_t n);
  // Lowest i in [0, n) with x[i] bitwise equal to v (so −0 ≠ +0), or −1.
  int32_t (*find_first)(const float* x, int32_t n, float v);
  // w[i] ← ExpNonPositive((logits[i] − max) · scale) for i in [0, n).
  void (*weights)(const float* logits, int32_t n, float max, float scale, float* w);
  // Σ ExpNonPositive(logits[i] − max) over [0, n), accumulated in double.
  double (*exp_sum)(const float* logits, int32_t n, float max);
  // Zeroes w[i] < min_p in [i0, i1) (weights are ≥ 0) and returns the mass left there, in double.
  double (*min_p_mass)(float* w, int64_t i0, int64_t i1, float min_p);
  // ids[i] ← RankBucket((logits[i] − max) · scale) for i in [0, n); where w is given and w[i] = 0,
  // ids[i] ← kRankBuckets instead (a token already removed).
  void (*buckets)(const float* logits, int32_t n, float max, float scale, const float* w, int32_t* ids);
  // With ids[i] holding each token's bucket (kRankBuckets = removed): out[b] ← the mass Σ w[i] of
  // bucket b for b < lump_from, and out[lump_from] ← the mass of every bucket from lump_from on
  // (out[b] = 0 past it); out has kRankBuckets + 1 entries. Removed tokens must weigh 0.
  void (*bucket_mass)(const int32_t* ids, const float* w, int32_t n, int32_t lump_from, double* out);
  // The same counting tokens instead of adding weights (exact in double); no token may be removed.
  void (*bucket_count)(const int32_t* ids, int32_t n, int32_t lump_from, double* out);
  // With ids[i] holding each token's bucket: zeroes w[i] wherever ids[i] > cut and gathers, in id
  // order, the ids whose bucket is `cut` into ids[0, count); returns count.
  int64_t (*split_at_bucket)(int32_t* ids, int32_t n, int32_t cut, float* w);
};

// The variant for this host: avx2 where the CPU has it, else the baseline build.
const SamplingRowOps& HostSamplingRowOps();

// The variant a caller asked for by ISA (avx512 runs the avx2 loops: there is no wider build yet);
// null when this CPU cannot run that ISA. kScalar is the baseline build (SSE2 on x86-64).
const SamplingRowOps* SamplingRowOpsFor(Isa isa);

// Per-ISA tables (sampling_rows.cc, sampling_rows_avx2.cc).
const SamplingRowOps& SamplingRowOpsBaseline();
const SamplingRowOps& SamplingRowOpsAvx2();

// SampleToken with a chosen variant's row loops (SampleToken uses the host's), so that tests can
// check every variant the host can run.
int32_t SampleTokenWith(const SamplingRowOps& ops, const float* logits, int32_t vocab, const SamplingParams& p,
                        uint64_t seed, uint64_t counter, SampleWorkspace* ws);

}  // namespace tt
