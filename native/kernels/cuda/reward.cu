// Score gather (step rewards from head outputs) and copy-on-write page copies on the GPU. The reward
// heads themselves are GEMMs plus a ReLU (native/cuda/api_kernels.cu composes them, as
// runtime/head.cc does on the CPU).
#include "../common/reward_math.h"
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

__global__ void ScoreGatherKernel(tt_cuda_score_gather_params p) {
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= p.count) return;
  const float* row = p.d_head_out + static_cast<int64_t>(p.d_rows[i]) * p.width;
  p.d_out[i] = StepReward(row, p.width, static_cast<RewardKind>(p.kind), p.pick);
}

// One block per (copy, layer, K or V): the leading tokens × kv_heads × head_dim elements of a page,
// copied as 16-bit or 32-bit words.
template <typename T>
__global__ void KvCopyKernel(tt_cuda_kv_copy_params p, const int32_t* src, const int32_t* dst, const int32_t* tokens) {
  const int32_t c = blockIdx.x;
  const int32_t plane = blockIdx.y;  // layer × 2 + (0 = K, 1 = V)
  const int64_t token_elems = static_cast<int64_t>(p.kv_heads) * p.head_dim;
  const int64_t page_elems = p.page_tokens * token_elems;
  const int64_t plane_elems = p.pages_total * page_elems;
  T* base = static_cast<T*>(p.d_pool) + plane * plane_elems;
  const T* from = base + src[c] * page_elems;
  T* to = base + dst[c] * page_elems;
  const int64_t n = tokens[c] * token_elems;
  for (int64_t e = threadIdx.x; e < n; e += blockDim.x) to[e] = from[e];
}

}  // namespace

const char* ScoreGather(const tt_cuda_score_gather_params& p, cudaStream_t stream) {
  if (p.count == 0) return nullptr;
  ScoreGatherKernel<<<static_cast<unsigned>(CeilDiv(p.count, 128)), 128, 0, stream>>>(p);
  return LaunchError();
}

const char* KvCopy(const tt_cuda_kv_copy_params& p, const int32_t* d_src, const int32_t* d_dst,
                   const int32_t* d_tokens, cudaStream_t stream) {
  if (p.copies == 0 || p.layers == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>(p.copies), static_cast<unsigned>(2 * p.layers));
  if (p.dtype == kF32) KvCopyKernel<float><<<grid, 256, 0, stream>>>(p, d_src, d_dst, d_tokens);
  else KvCopyKernel<uint16_t><<<grid, 256, 0, stream>>>(p, d_src, d_dst, d_tokens);
  return LaunchError();
}

}  // namespace tt::cuda
