// SwiGLU and ReLU: the CUDA twins of kernels/cpu/activation.cc, with the per-element math from
// kernels/common/math.h.
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

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
