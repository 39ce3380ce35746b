// RMSNorm: the CUDA twin of kernels/cpu/norm.cc.
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

constexpr int kThreads = 256;

}  // namespace

const char* RmsNorm(const tt_cuda_rms_norm_params& p, cudaStream_t stream) {
  if (p.rows == 0) return nullptr;
  TT_DISPATCH_DTYPE(p.w_dtype, WD, (RmsNormKernel<WD><<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p)));
  return LaunchError();
}

}  // namespace tt::cuda
