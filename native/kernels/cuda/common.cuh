// Helpers every CUDA kernel file uses: element loads by dtype, block-wide reductions, launch checks.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "../common/math.h"
#include "../common/quant_blocks.h"

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

// Block-quantized weight types (tt_cuda_dtype numbering; layouts in common/quant_blocks.h).
constexpr int32_t kQ8_0 = 3, kQ4_0 = 4, kQ4_K = 5, kQ6_K = 6;

// Element (row, col) of a [rows, k] weight matrix of any type: float types by index, quantized ones
// decoded from their block (a row is QuantRowBytes(DT, k) bytes).
template <int32_t DT>
__device__ __forceinline__ float LoadWeight(const void* base, int64_t row, int64_t col, int64_t k) {
  if constexpr (DT <= kBF16) return LoadF32<DT>(base, row * k + col);
  else return QuantElement(DT, static_cast<const uint8_t*>(base) + row * QuantRowBytes(DT, k), col);
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

// TT_DISPATCH_DTYPE plus the quantized types: for kernels that read weights through LoadWeight.
#define TT_DISPATCH_WEIGHT(dtype, DT, ...)         \
  switch (dtype) {                                 \
    case ::tt::cuda::kQ8_0: {                      \
      constexpr int32_t DT = ::tt::cuda::kQ8_0;    \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    case ::tt::cuda::kQ4_0: {                      \
      constexpr int32_t DT = ::tt::cuda::kQ4_0;    \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    case ::tt::cuda::kQ4_K: {                      \
      constexpr int32_t DT = ::tt::cuda::kQ4_K;    \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    case ::tt::cuda::kQ6_K: {                      \
      constexpr int32_t DT = ::tt::cuda::kQ6_K;    \
      __VA_ARGS__;                                 \
      break;                                       \
    }                                              \
    default:                                       \
      TT_DISPATCH_DTYPE(dtype, DT, __VA_ARGS__);   \
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
