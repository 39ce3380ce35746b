// Segmented top-k and Gumbel-top-k sampling on the GPU, the twin of kernels/cpu/tree_ops.cc. Keys and
// the order come from common/tree_ops_math.h, a strict total order, so the GPU selects exactly the
// CPU's candidates in the CPU's order whatever the algorithm: one block per segment; a segment that
// fits in shared memory is bitonic-sorted there, a longer one gives up its best candidate keep times
// by block-wide argmax (segments of a tree search are beams of a few dozen candidates; the long path
// only has to be right).
#include "../common/tree_ops_math.h"
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kSortCapacity = 2048;  // candidates a block sorts in shared memory

__device__ __forceinline__ float KeyOf(const tt_cuda_segmented_select_params& p, int32_t s, int32_t begin, int32_t i) {
  return p.temperature > 0.0f
             ? GumbelKey(p.d_scores[i], p.temperature, p.d_seeds[s], p.d_counters[s], static_cast<uint32_t>(i - begin))
             : RankKey(p.d_scores[i]);
}

__global__ void __launch_bounds__(kThreads) SegmentedSelectKernel(tt_cuda_segmented_select_params p) {
  __shared__ float keys[kSortCapacity];
  __shared__ int32_t ids[kSortCapacity];
  __shared__ float best_key[kThreads];
  __shared__ int32_t best_id[kThreads];
  const int32_t s = blockIdx.x;
  const int32_t begin = p.d_segment_offsets[s], end = p.d_segment_offsets[s + 1];
  const int32_t out0 = p.d_out_offsets[s], keep = p.d_out_offsets[s + 1] - out0;
  const int32_t n = end - begin;
  if (keep == 0) return;
  if (n <= kSortCapacity) {
    int32_t size = 1;
    while (size < n) size <<= 1;
    for (int32_t j = threadIdx.x; j < size; j += blockDim.x) {
      keys[j] = j < n ? KeyOf(p, s, begin, begin + j) : -INFINITY;
      ids[j] = j < n ? begin + j : INT32_MAX;  // padding ranks after every real candidate
    }
    __syncthreads();
    // bitonic sort, "before" first
    for (int32_t k = 2; k <= size; k <<= 1) {
      for (int32_t j = k >> 1; j > 0; j >>= 1) {
        for (int32_t i = threadIdx.x; i < size; i += blockDim.x) {
          const int32_t partner = i ^ j;
          if (partner > i) {
            const bool ascending = (i & k) == 0;  // this run puts "before" first
            const bool partner_first = RanksBefore(keys[partner], ids[partner], keys[i], ids[i]);
            if (partner_first == ascending) {
              const float tk = keys[i];
              keys[i] = keys[partner];
              keys[partner] = tk;
              const int32_t ti = ids[i];
              ids[i] = ids[partner];
              ids[partner] = ti;
            }
          }
        }
        __syncthreads();
      }
    }
    for (int32_t j = threadIdx.x; j < keep; j += blockDim.x) p.d_out_indices[out0 + j] = ids[j];
    return;
  }
  // long segment: keys into the workspace, then keep rounds of argmax, each winner struck out
  for (int32_t i = begin + threadIdx.x; i < end; i += blockDim.x) p.d_keys[i] = KeyOf(p, s, begin, i);
  __syncthreads();
  int32_t prev_id = -1;
  float prev_key = INFINITY;
  for (int32_t round = 0; round < keep; round++) {
    float bk = -INFINITY;
    int32_t bi = INT32_MAX;
    for (int32_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
      const float ki = p.d_keys[i];
      // only candidates after the previous winner in the order are left
      if (round > 0 && !RanksBefore(prev_key, prev_id, ki, i)) continue;
      if (bi == INT32_MAX || RanksBefore(ki, i, bk, bi)) {
        bk = ki;
        bi = i;
      }
    }
    best_key[threadIdx.x] = bk;
    best_id[threadIdx.x] = bi;
    __syncthreads();
    for (int32_t half = blockDim.x / 2; half > 0; half >>= 1) {
      if (static_cast<int32_t>(threadIdx.x) < half) {
        const int32_t o = threadIdx.x + half;
        if (best_id[o] != INT32_MAX &&
            (best_id[threadIdx.x] == INT32_MAX || RanksBefore(best_key[o], best_id[o], best_key[threadIdx.x], best_id[threadIdx.x]))) {
          best_key[threadIdx.x] = best_key[o];
          best_id[threadIdx.x] = best_id[o];
        }
      }
      __syncthreads();
    }
    prev_key = best_key[0];
    prev_id = best_id[0];
    if (threadIdx.x == 0) p.d_out_indices[out0 + round] = prev_id;
    __syncthreads();
  }
}

}  // namespace

const char* SegmentedSelect(const tt_cuda_segmented_select_params& p, cudaStream_t stream) {
  if (p.segments == 0) return nullptr;
  SegmentedSelectKernel<<<static_cast<unsigned>(p.segments), kThreads, 0, stream>>>(p);
  return LaunchError();
}

}  // namespace tt::cuda
