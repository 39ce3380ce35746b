// Element types of weights as they sit in memory (safetensors dtypes we accept).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tt {

enum class DType : int32_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

inline size_t DTypeSize(DType t) { return t == DType::kF32 ? 4 : 2; }

inline const char* DTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
  }
  return "?";
}

// Arithmetic mode of the GEMM inputs. kF32: activations stay f32, weights are upcast exactly.
// kBF16: activations are rounded to bf16 so the AVX-512 BF16 dot product can run; f32 accumulation.
enum class Precision : int32_t { kF32 = 0, kBF16 = 1 };

}  // namespace tt
