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

constexpr int kThreads = 256;

}  // namespace

const char* Rope(const tt_cuda_rope_params& p, cudaStream_t stream) {
  const int64_t n = p.tokens * (p.head_dim / 2);
  if (n == 0) return nullptr;
  RopeKernel<<<static_cast<unsigned>(CeilDiv(n, kThreads)), kThreads, 0, stream>>>(p);
  return LaunchError();
}

}  // namespace tt::cuda
