// Y = X · Wᵀ (+ bias): the linear layers of a transformer. W keeps the checkpoint's dtype and the
// Hugging Face Linear layout [out_features, in_features]; accumulation is always f32.
#pragma once
#include <cstdint>
#include <vector>

#include "../../platform/cpu_features.h"
#include "../../platform/thread_pool.h"
#include "../common/dtype.h"

namespace tt {

// X quantized for a GEMM on block-quantized weights (gemm_quant.h): row r is q[r·k .. r·k + k) in
// int8 blocks of `block` (32, or 256 for Q4_K and Q6_K weights), their f32 scales d[r·k/block ..] and the sums
// of each 16 int8 values sum16[r·k/16 ..].
struct QuantActs {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  int64_t block = 32;
  const int16_t* sum16 = nullptr;
  // For the packed kernel only (GemmParams::w_packed): per 32 values, Σ of them and their scale d · Σ.
  const int16_t* sum32 = nullptr;  // at most 32 · 127: pairs of them load as one i32 (Q4_K's vpmaddwd)
  const float* dsum32 = nullptr;
  int64_t k = 0;
};

struct GemmParams {
  const float* x = nullptr;   // [m, k] activations, row stride lda (elements)
  int64_t lda = 0;
  const void* w = nullptr;    // [n, k] weights, dense rows, dtype w_dtype (DTypeRowBytes(w_dtype, k) each)
  DType w_dtype = DType::kF32;
  // The same W repacked (packed_weights.h): quantized for the AVX-512 VNNI kernel, BF16 for the
  // AVX-512 BF16 one (precision bf16 only); or null. Where its kernel runs, Gemm() uses it for every m
  // (w may then be null); elsewhere it reads w.
  const void* w_packed = nullptr;
  const float* bias = nullptr;  // [n] or null
  float* y = nullptr;         // [m, n] output, row stride ldy (elements); overwritten
  int64_t ldy = 0;
  int64_t m = 0, n = 0, k = 0;
  Precision precision = Precision::kF32;
  // Filled by Gemm() for Precision::kBF16 when the avx512bf16 variant runs with BF16 weights; callers
  // leave it null. For kBF16 on the other variants Gemm() instead points x at a copy of X rounded to
  // bf16 (kept as f32), so no variant rounds inside its loops.
  const uint16_t* x_bf16 = nullptr;  // [m, k] bf16 bits of X, row stride k
  // Filled by Gemm() instead of x_bf16 when the avx512bf16 variant runs with BF16 (or decoded
  // quantized) weights, m >= kPanelMinRows and k is even: X as 16-row panels (gemm_panels.h).
  const uint32_t* x_panels = nullptr;
  // Filled by Gemm() for the avx512 variant (and avx512bf16 where it runs that variant's f32 math)
  // with F32, F16, BF16 or decoded quantized weights and m >= kF32PanelMinRows: X (as the variant
  // reads it, so bf16-rounded for kBF16) as f32 panels of 16 rows (gemm_panels_f32.h).
  const float* x_panels_f32 = nullptr;
  // Filled by Gemm() when w_dtype is quantized (callers leave it empty): X as int8 blocks.
  QuantActs acts;
};

// The caller's scratch for Precision::kBF16 calls: the bf16 view of X. The caller owns it (the
// runtime's ForwardScratch, a bench's call); Gemm grows it to the largest m·k it has been given and
// never frees it, so a steady decode or prefill loop allocates nothing. One workspace per concurrent
// caller; kF32 calls leave it untouched.
struct GemmWorkspace {
  std::vector<float> rounded;  // [m, k] X rounded to bf16, kept as f32 (every variant but avx512bf16)
  std::vector<uint16_t> bits;  // [m, k] X as bf16 bits (the avx512bf16 variant with BF16 weights)
  std::vector<uint32_t> panels;  // X as 16-row panels of bf16 pairs (the same, from kPanelMinRows rows)
  std::vector<float> f32_panels; // X as 16-row f32 panels (avx512, from kF32PanelMinRows rows)
  // Quantized weights (any precision): X as int8 blocks, their scales and 16-element sums.
  std::vector<int8_t> act_q;    // [m, k]
  std::vector<float> act_d;     // [m, k / 32] (or k / 256)
  std::vector<int16_t> act_sum; // [m, k / 16]
  std::vector<int16_t> act_sum32;  // [m, k / 32] (packed weights)
  std::vector<float> act_dsum32;   // [m, k / 32] (packed weights)
  std::vector<float> slices;    // [threads, 24..96, k] decoded W rows (quantized weights, many X rows)
  std::vector<uint16_t> slice_bits;  // the same as bf16 bits (Precision::kBF16)
};

// Returns nullptr on success, else a sentence saying what was wrong. `isa` picks the variant; one
// the host cannot run is an error, never a crash. `ws` may be null only for Precision::kF32 with
// float weights; quantized weights always need it (and k a multiple of their block size).
const char* Gemm(const GemmParams& p, Isa isa, GemmWorkspace* ws, ThreadPool* pool);

// One ISA's implementation over a block of output columns [n0, n1) for all m rows.
using GemmBlockFn = void (*)(const GemmParams& p, int64_t n0, int64_t n1);

// Variants: each lives in its own file compiled with that ISA's flags (native/sources.json).
// A missing variant is null and Gemm falls back to the next one down.
GemmBlockFn GemmBlockScalar();
GemmBlockFn GemmBlockAvx2();
GemmBlockFn GemmBlockAvx512();
GemmBlockFn GemmBlockAvx512Bf16();
// BF16 weights packed by 16 rows (packed_weights.h), precision bf16 on AVX-512 BF16: over groups
// [g0, g1) of 16 columns (not columns), reading p.w_packed and p.x_bf16.
GemmBlockFn GemmPackedBf16();
// Groups in that kernel's tile; callers hand it multiples of them.
constexpr int kBf16PackedGroups = 4;
// True where that kernel runs: `isa` is avx512bf16 and the CPU has it.
bool Bf16PackedRuns(Isa isa);

}  // namespace tt
