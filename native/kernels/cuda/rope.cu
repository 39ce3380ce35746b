// Rotary position embedding: the CUDA twin of kernels/cpu/rope.cc, with the rotation from
// kernels/common/math.h.
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

// One thread per (token, rotation pair i), looping over heads: cos and sin once per pair, as the CPU.
__global__ void RopeKernel(tt_cuda_rope_params p) {
  const int half = p.head_dim / 2;
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= p.tokens * half) return;
  const int64_t t = e / half;
  const int i = static_cast<int>(e % half);
  const float angle = static_cast<float>(p.d_positions[t]) * p.d_inv_freq[i];
  // Full-precision cosf/sinf (never the fast intrinsics): large positions need the careful range reduction.
  const float c = cosf(angle) * p.attention_scaling, s = sinf(angle) * p.attention_scaling;
  float* row = p.d_x + t * p.ld;
  for (int h = 0; h < p.heads; h++) {
    float* head = row + static_cast<int64_t>(h) * p.head_dim;
    float x0 = head[i], x1 = head[i + half];
    RopeRotate(x0, x1, c, s);
    head[i] = x0;
    head[i + half] = x1;
  }
}

// Interleaved input (GGUF llama's permuted Q/K rows): one block per (token, head); the head is staged
// in dynamic shared memory [head_dim] before pair i at (2i, 2i+1) is rotated into (i, i + half).
__global__ void RopeInterleavedKernel(tt_cuda_rope_params p) {
  TT_DYNAMIC_SMEM(smem);
  float* s_in = reinterpret_cast<float*>(smem);  // [head_dim] the head as read
  const int half = p.head_dim / 2;
  const int64_t t = blockIdx.x / p.heads;
  const int h = static_cast<int>(blockIdx.x % p.heads);
  float* head = p.d_x + t * p.ld + static_cast<int64_t>(h) * p.head_dim;
  for (int e = threadIdx.x; e < p.head_dim; e += blockDim.x) s_in[e] = head[e];
  __syncthreads();
  const float pos = static_cast<float>(p.d_positions[t]);
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const float angle = pos * p.d_inv_freq[i];
    const float c = cosf(angle) * p.attention_scaling, s = sinf(angle) * p.attention_scaling;
    float x0 = s_in[2 * i], x1 = s_in[2 * i + 1];
    RopeRotate(x0, x1, c, s);
    head[i] = x0;
    head[i + half] = x1;
  }
}

constexpr int kThreads = 256;
constexpr int kInterleavedThreads = 64;

}  // namespace

const char* Rope(const tt_cuda_rope_params& p, cudaStream_t stream) {
  if (p.interleaved) {
    const int64_t blocks = p.tokens * p.heads;
    if (blocks == 0) return nullptr;
    const size_t smem = static_cast<size_t>(p.head_dim) * sizeof(float);
    RopeInterleavedKernel<<<static_cast<unsigned>(blocks), kInterleavedThreads, smem, stream>>>(p);
    return LaunchError();
  }
  const int64_t n = p.tokens * (p.head_dim / 2);
  if (n == 0) return nullptr;
  RopeKernel<<<static_cast<unsigned>(CeilDiv(n, kThreads)), kThreads, 0, stream>>>(p);
  return LaunchError();
}

}  // namespace tt::cuda
