// The f32 X-panel GEMM of the avx2 and avx512 variants (W as BF16, F16 or F32; both precisions, since
// Gemm() rounds X to bf16-valued floats for Precision::kBF16 before packing). The f32 counterpart of
// gemm_panels.h: X is packed once per Gemm() call into panels of L rows (L = 8 for avx2's ymm, 16 for
// avx512's zmm), and the kernel broadcasts W scalars against them, so every accumulator lane is a
// finished output and no horizontal sums are left (the NT tile kernel in gemm_tiled.h spends them at
// the end of every k block and reuses each W vector only 3-4 times: 35-41% of the FMA peak at 16-64 rows).
//
// Panel layout: group g holds X rows [L·g, L·g + L); element [g][t][l] = x[L·g + l][t], at offset
// (g·k + t)·L + l. Rows past m are zero, so tiles never need row masks; any k (odd too) works.
#pragma once
#include <cstdint>

namespace tt {

// From this many X rows up, Gemm() packs f32 panels for the avx2 and avx512 variants; below, the NT
// tile kernel runs (half-empty panels cost more than its horizontal sums).
constexpr int64_t kF32PanelMinRows = 8;

// Floats the panels of an [m, k] X take with `lanes` rows per group.
inline int64_t F32PanelElems(int64_t m, int64_t k, int lanes) { return (m + lanes - 1) / lanes * lanes * k; }

// Packs the `lanes`-row groups [g0, g1) of X ([m, k] f32, row stride lda) into `out`. Portable code:
// the copy is m·k floats against the GEMM's m·n·k multiply-adds.
void PackXPanelsF32(const float* x, int64_t lda, int64_t m, int64_t k, int lanes, int64_t g0, int64_t g1, float* out);

}  // namespace tt
