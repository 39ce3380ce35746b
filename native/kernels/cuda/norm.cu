// RMSNorm, RoPE, SwiGLU and ReLU: the CUDA twins of kernels/cpu/{norm,rope,activation}.cc, with the
// per-element math from kernels/common/math.h.
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

// One block per row. The CPU sums squares in double; so does this (one double per thread, then a
// block sum), so the two agree to f32 rounding of the final scale.
template <int32_t WD>
__global__ void RmsNormKernel(tt_cuda_rms_norm_params p) {
  __shared__ double scratch[32];
  const int64_t r = blockIdx.x;
  const float* x = p.d_x + r * p.ld_x;
  float* y = p.d_y + r * p.ld_y;
  double ss = 0.0;
  for (int64_t i = threadIdx.x; i < p.dim; i += blockDim.x) ss += static_cast<double>(x[i]) * x[i];
  ss = BlockSum(ss, scratch);
  const float inv = 1.0f / sqrtf(static_cast<float>(ss / p.dim) + p.eps);
  for (int64_t i = threadIdx.x; i < p.dim; i += blockDim.x) y[i] = x[i] * inv * LoadF32<WD>(p.d_weight, i);
}

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

__global__ void SwiGluKernel(tt_cuda_swiglu_params p) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= p.rows * p.dim) return;
  const int64_t r = e / p.dim, i = e % p.dim;
  p.d_out[r * p.ld_out + i] = ::tt::SwiGlu(p.d_gate[r * p.ld_in + i], p.d_up[r * p.ld_in + i]);
}

__global__ void ReluKernel(float* x, int64_t n) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e < n) x[e] = ::tt::Relu(x[e]);
}

constexpr int kThreads = 256;

}  // namespace

const char* RmsNorm(const tt_cuda_rms_norm_params& p, cudaStream_t stream) {
  if (p.rows == 0) return nullptr;
  TT_DISPATCH_DTYPE(p.w_dtype, WD, (RmsNormKernel<WD><<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p)));
  return LaunchError();
}

const char* Rope(const tt_cuda_rope_params& p, cudaStream_t stream) {
  const int64_t n = p.tokens * (p.head_dim / 2);
  if (n == 0) return nullptr;
  RopeKernel<<<static_cast<unsigned>(CeilDiv(n, kThreads)), kThreads, 0, stream>>>(p);
  return LaunchError();
}

const char* SwiGlu(const tt_cuda_swiglu_params& p, cudaStream_t stream) {
  const int64_t n = p.rows * p.dim;
  if (n == 0) return nullptr;
  SwiGluKernel<<<static_cast<unsigned>(CeilDiv(n, kThreads)), kThreads, 0, stream>>>(p);
  return LaunchError();
}

const char* Relu(float* d_x, int64_t n, cudaStream_t stream) {
  if (n == 0) return nullptr;
  ReluKernel<<<static_cast<unsigned>(CeilDiv(n, kThreads)), kThreads, 0, stream>>>(d_x, n);
  return LaunchError();
}

}  // namespace tt::cuda
