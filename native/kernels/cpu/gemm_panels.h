// The avx512bf16 GEMM for batches of X rows (decode at B ≥ 8, prefill, PRM scoring): X is packed
// once per call into "panels" of 16 rows, and the kernel broadcasts W instead of reducing dot
// products horizontally.
//
// Why: the NT tile kernel (gemm_tiled.h) multiplies an X row by a W row lane-wise and must add its 16
// lanes together at the end of every k block, and its 12 accumulators reuse each W vector only 4
// times, so at 16–64 rows it ran at 36–47% of the measured bf16 peak. Here one zmm holds 16 X rows
// (one bf16 pair of k each), so `vdpbf16ps acc, xpanel, broadcast(w[j][2t..2t+1])` produces 16
// outputs of column j at once, every lane is a finished sum, and a tile of 16·MV rows × NR columns
// keeps MV·NR = 24 of the 32 zmm registers accumulating. W streams straight from the checkpoint's
// [n, k] rows (4 bytes per step per row), so nothing about the weights' layout changes.
//
// Panel layout (uint32 per element, like vdpbf16ps wants its pairs): group g holds X rows
// [16g, 16g + 16); element [g][t][l] = bf16(x[16g + l][2t]) | bf16(x[16g + l][2t + 1]) << 16, at
// offset (g · k/2 + t) · 16 + l. Rows past m are zero, so tiles never need row masks.
#pragma once
#include <cstdint>

#include "gemm.h"

namespace tt {

// From this many X rows up, Gemm() packs panels for the avx512bf16 variant (below, the NT kernel's
// smaller tiles waste no lanes on absent rows).
constexpr int64_t kPanelMinRows = 8;

// uint32 elements the panels of an [m, k] X take (k even).
inline int64_t PanelElems(int64_t m, int64_t k) { return (m + 15) / 16 * 16 * (k / 2); }

// Packs the 16-row groups [g0, g1) of X ([m, k] f32, row stride lda, k even) into `out`, rounding to
// bf16 to nearest even. Compiled for avx512bf16; call only where the host has it.
void PackXPanelsAvx512Bf16(const float* x, int64_t lda, int64_t m, int64_t k, int64_t g0, int64_t g1, uint32_t* out);

// Rows [r0, r1) of X ([m, k] f32, row stride lda) as bf16 bits, row stride k, rounded to nearest
// even by vcvtneps2bf16: F32ToBf16's result for every input but the f32 subnormals, which the
// instruction flushes to zero (as the panels above do). Compiled for avx512bf16.
void XRowsToBf16Avx512Bf16(const float* x, int64_t lda, int64_t k, int64_t r0, int64_t r1, uint16_t* out);

// Y[:, n0:n1) for all m rows from p.x_panels and BF16 weights p.w (k even).
void GemmPanelsAvx512Bf16(const GemmParams& p, int64_t n0, int64_t n1);

}  // namespace tt
