// Segmented selection, the step of a tree search that picks which candidates to extend: for each
// segment of a flat score array (the candidates of one beam, one search, one group) the best k, or k
// drawn without replacement from softmax(score / T). Device-neutral signature: the CUDA twin takes
// the same parameter struct. The per-candidate math is in common/tree_ops_math.h.
#pragma once
#include <cstdint>

#include "../../runtime/thread_pool.h"

namespace tt {

struct SegmentedSelectParams {
  const float* scores = nullptr;           // [n] f32 candidate scores, segments concatenated
  const int32_t* segment_offsets = nullptr; // [segments + 1] CSR offsets into scores: first 0, last n, non-decreasing
  int32_t segments = 0;
  const int32_t* k = nullptr;              // [segments] candidates to keep per segment, >= 0 (more than the segment keeps all)
  // 0: deterministic top-k (seeds and counters unused). > 0: Gumbel-top-k sampling at this temperature.
  float temperature = 0.0f;
  const uint64_t* seeds = nullptr;         // [segments] stream key of each segment's draw
  const uint32_t* counters = nullptr;      // [segments] draw counter of each segment
  const int32_t* out_offsets = nullptr;    // [segments + 1] from SelectionOffsets
  int32_t* out_indices = nullptr;          // [out_offsets[segments]] indices into scores, best (or first drawn) first
  float* keys = nullptr;                   // [n] workspace: each candidate's rank key
  int32_t* order = nullptr;                // [n] workspace: candidate indices being ordered
};

// out_offsets[s + 1] = out_offsets[s] + min(k[s], segment length); returns the total.
// Precondition: offsets and k valid (checked at the N-API boundary).
int64_t SelectionOffsets(const int32_t* segment_offsets, const int32_t* k, int32_t segments, int32_t* out_offsets);

// Fills out_indices. A segment's result depends only on its scores, its k and (when sampling) its
// seed and counter: never on the other segments, the thread count or the algorithm. pool may be null.
void SegmentedSelect(const SegmentedSelectParams& p, ThreadPool* pool);

}  // namespace tt
