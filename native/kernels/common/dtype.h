// Element types of weights as they sit in memory: the safetensors float dtypes and ggml's block
// quantizations (the block layouts are quant_blocks.h).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tt {

// The numbering is shared with the CUDA library's C ABI (tt_cuda_dtype): append, never renumber.
enum class DType : int32_t { kF32 = 0, kF16 = 1, kBF16 = 2, kQ8_0 = 3, kQ4_0 = 4, kQ4_K = 5, kQ6_K = 6 };

// True for the block-quantized types: a row is whole blocks, never single elements.
inline bool IsQuantized(DType t) { return static_cast<int32_t>(t) >= static_cast<int32_t>(DType::kQ8_0); }

// Elements one block holds (1 for the float types).
inline int64_t DTypeBlockElems(DType t) {
  switch (t) {
    case DType::kQ8_0:
    case DType::kQ4_0: return 32;
    case DType::kQ4_K:
    case DType::kQ6_K: return 256;
    default: return 1;
  }
}

// Bytes one block takes: ggml's sizeof(block_q8_0) = 34, block_q4_0 = 18, block_q4_K = 144,
// block_q6_K = 210; the element size for the float types.
inline int64_t DTypeBlockBytes(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kQ8_0: return 34;
    case DType::kQ4_0: return 18;
    case DType::kQ4_K: return 144;
    case DType::kQ6_K: return 210;
  }
  return 0;
}

// Bytes of one element of a float type. Quantized types have no per-element size: use DTypeRowBytes.
inline size_t DTypeSize(DType t) { return t == DType::kF32 ? 4 : 2; }

// Bytes of a row of `cols` elements, or -1 when `cols` is not a whole number of blocks.
inline int64_t DTypeRowBytes(DType t, int64_t cols) {
  const int64_t b = DTypeBlockElems(t);
  if (cols < 0 || cols % b != 0) return -1;
  return cols / b * DTypeBlockBytes(t);
}

inline const char* DTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kQ8_0: return "Q8_0";
    case DType::kQ4_0: return "Q4_0";
    case DType::kQ4_K: return "Q4_K";
    case DType::kQ6_K: return "Q6_K";
  }
  return "?";
}

// Arithmetic mode of the GEMM inputs. kF32: activations stay f32, weights are upcast exactly.
// kBF16: activations are rounded to bf16 so the AVX-512 BF16 dot product can run; f32 accumulation.
// (Quantized weights ignore it: their activations are quantized to int8 blocks, gemm_quant.h.)
enum class Precision : int32_t { kF32 = 0, kBF16 = 1 };

}  // namespace tt
