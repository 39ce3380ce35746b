// GEMM on block-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K): the activations are quantized once per
// call to int8 blocks with an f32 scale each (as ggml's q8 activations), so every weight block meets
// its activation block in an exact integer dot product and only the per-block scaling is floating
// point. All variants compute the same integers; they differ only in the order of the f32 sums.
//
// The activation block is 32 elements, and 256 for the K-quants Q4_K and Q6_K (ActBlockFor), as ggml
// pairs them with its Q8_K activations: one scale per super-block lets the kernels apply a
// super-block's sub-block scales (6-bit or int8 integers) in integer arithmetic and convert to f32
// once per super-block instead of once per sub-block, which had kept batch-1 Q4_K bound by its
// arithmetic on AVX2.
//
// Error against the f32 GEMM on the dequantized weights: only the activation rounding, at most half
// a step d_x = max|x_block| / 127 per element, so |Δy| <= Σ_blocks d_x / 2 · Σ_block |w| (plus f32
// summation noise). test/native/quant.test.ts checks exactly this bound. Gemm() takes this path for
// small m only; from 8 rows up it decodes W into f32 slices for the float variants instead (gemm.cc).
#pragma once
#include <cstdint>

#include "gemm.h"

namespace tt {

// Elements per activation block (the K-quants': kActBlockK), and per sum (Q6_K's sub-blocks are 16 long).
constexpr int64_t kActBlock = 32;
constexpr int64_t kActBlockK = 256;
constexpr int64_t kActSum = 16;

// The activation block weights of type t are paired with.
constexpr int64_t ActBlockFor(DType t) { return t == DType::kQ4_K || t == DType::kQ6_K ? kActBlockK : kActBlock; }

// Quantizes rows [r0, r1) of x (row stride lda, k a multiple of `block`, which is kActBlock or
// kActBlockK) into int8 q (row stride k), one scale per block in d (k / block per row) and the sums of
// every 16 values in sum16 (k / 16 per row).
void QuantizeActRows(const float* x, int64_t lda, int64_t k, int64_t block, int64_t r0, int64_t r1, int8_t* q, float* d,
                     int16_t* sum16);
// The same, bit for bit for finite x, on AVX2 or AVX-512 vectors (quantize_acts_simd.h).
using QuantizeActsFn = decltype(&QuantizeActRows);
QuantizeActsFn QuantizeActsAvx2();
QuantizeActsFn QuantizeActsAvx512();
// The variant for `isa` (the caller has checked the CPU runs it).
QuantizeActsFn QuantizeActsFor(Isa isa);

// One ISA's quantized GEMM over output columns [n0, n1), all m rows; p.w holds DTypeRowBytes(w_dtype,
// k) bytes per row and p.acts the quantized X.
using QuantBlockFn = void (*)(const GemmParams& p, int64_t n0, int64_t n1);
QuantBlockFn QuantBlockScalar();
QuantBlockFn QuantBlockAvx2();
QuantBlockFn QuantBlockAvx512();
QuantBlockFn QuantBlockAvx512Vnni();

// The packed-weights GEMM (packed_weights.h) over groups [g0, g1) of 16 output columns, all m rows;
// p.w_packed holds the packed W and p.acts the quantized X with sum32 and dsum32.
using QuantPackedFn = void (*)(const GemmParams& p, int64_t g0, int64_t g1);
QuantPackedFn QuantPackedAvx2();        // gemm_quant_packed_avx2.cc: vpmaddubsw, 8 columns per ymm
QuantPackedFn QuantPackedAvx512Vnni();  // gemm_quant_packed_vnni.cc: vpdpbusd, 16 columns per zmm
// Groups that kernel reads side by side at one or two X rows; callers hand it multiples of them.
constexpr int kQuantPackedGroups = 4;

// The packed kernel `isa` runs on this CPU: VNNI for avx512 / avx512bf16 on a CPU with AVX512_VNNI,
// AVX2 for avx2 (and for avx512 without VNNI); null for scalar or an ISA the CPU lacks.
QuantPackedFn QuantPackedFor(Isa isa);
// True where QuantPackedFor(isa) is not null.
bool QuantPackedRuns(Isa isa);

// Decodes one row of k quantized weights (quant_blocks.h's values) into f32, or into bf16 bits
// (rounded to nearest even) when f32 is null: the many-rows path's slices (gemm.cc).
using QuantDecodeFn = void (*)(DType type, const uint8_t* row, int64_t k, float* f32, uint16_t* bf16);
QuantDecodeFn QuantDecodeScalar();
QuantDecodeFn QuantDecodeAvx2();
QuantDecodeFn QuantDecodeAvx512();
QuantDecodeFn QuantDecodeAvx512Bf16();  // Q8_0 / Q4_0 to bf16; the rest through QuantDecodeAvx512

}  // namespace tt
