// Helpers every CUDA kernel file uses: element loads by dtype, block-wide reductions, launch checks.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "../common/math.h"

namespace tt::cuda {

// Error sentence of the last launch, or null. Launchers return `const char*` like the CPU kernels.
inline const char* LaunchError() {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Element type tags (tt_cuda_dtype numbering) and their loads as f32, via the shared host+device
// conversions so a GPU load rounds exactly as the CPU one.
constexpr int32_t kF32 = 0, kF16 = 1, kBF16 = 2;

template <int32_t DT>
__device__ __forceinline__ float LoadF32(const void* base, int64_t i) {
  if constexpr (DT == kF32) return static_cast<const float*>(base)[i];
  else if constexpr (DT == kF16) return F16ToF32(static_cast<const uint16_t*>(base)[i]);
  else return Bf16ToF32(static_cast<const uint16_t*>(base)[i]);
}

// Runtime dtype to compile-time constant; the default case is the caller's error sentence.
#define TT_DISPATCH_DTYPE(dtype, DT, ...)          \
  switch (dtype) {                                 \
    case ::tt::cuda::kF32: {                       \
      constexpr int32_t DT = ::tt::cuda::kF32;     \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    case ::tt::cuda::kF16: {                       \
      constexpr int32_t DT = ::tt::cuda::kF16;     \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    case ::tt::cuda::kBF16: {                      \
      constexpr int32_t DT = ::tt::cuda::kBF16;    \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    default:                                       \
      return "unsupported dtype";                  \
  }

// Dynamic shared memory of a kernel, 128-byte aligned (the emulator hands out its own buffer).
#if defined(TT_CUDA_EMU)
#define TT_DYNAMIC_SMEM(name) unsigned char* name = ::tt_emu::DynamicSmem()
#else
#define TT_DYNAMIC_SMEM(name) extern __shared__ __align__(128) unsigned char name[]
#endif

template <typename T>
__device__ __forceinline__ T WarpSum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block; every thread gets the result. `scratch` holds at least 32 T; blockDim.x is a
// multiple of 32. Synchronises, so every thread of the block must call it.
template <typename T>
__device__ T BlockSum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = WarpSum(v);
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T r = lane < warps ? scratch[lane] : T(0);
  return WarpSum(r);
}

}  // namespace tt::cuda
