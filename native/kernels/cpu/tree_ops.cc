#include "tree_ops.h"

#include <algorithm>

#include "../common/tree_ops_math.h"

namespace tt {

int64_t SelectionOffsets(const int32_t* segment_offsets, const int32_t* k, int32_t segments, int32_t* out_offsets) {
  int64_t total = 0;
  out_offsets[0] = 0;
  for (int32_t s = 0; s < segments; s++) {
    const int64_t len = static_cast<int64_t>(segment_offsets[s + 1]) - segment_offsets[s];
    total += std::min<int64_t>(k[s], len);
    out_offsets[s + 1] = static_cast<int32_t>(total);
  }
  return total;
}

namespace {

void SelectSegment(const SegmentedSelectParams& p, int32_t s) {
  const int32_t begin = p.segment_offsets[s], end = p.segment_offsets[s + 1];
  const int32_t keep = p.out_offsets[s + 1] - p.out_offsets[s];
  if (keep == 0) return;
  float* keys = p.keys;
  for (int32_t i = begin; i < end; i++) {
    keys[i] = p.temperature > 0.0f
                  ? GumbelKey(p.scores[i], p.temperature, p.seeds[s], p.counters[s], static_cast<uint32_t>(i - begin))
                  : RankKey(p.scores[i]);
    p.order[i] = i;
  }
  const auto before = [keys](int32_t a, int32_t b) { return RanksBefore(keys[a], a, keys[b], b); };
  int32_t* first = p.order + begin;
  int32_t* last = p.order + end;
  // Linear-time partition around the keep-th candidate, then sort only the kept ones.
  if (keep < end - begin) std::nth_element(first, first + keep, last, before);
  std::sort(first, first + keep, before);
  std::copy(first, first + keep, p.out_indices + p.out_offsets[s]);
}

}  // namespace

void SegmentedSelect(const SegmentedSelectParams& p, ThreadPool* pool) {
  auto run = [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; s++) SelectSegment(p, static_cast<int32_t>(s));
  };
  if (pool != nullptr) pool->ParallelFor(p.segments, 8, run);
  else run(0, p.segments);
}

}  // namespace tt
