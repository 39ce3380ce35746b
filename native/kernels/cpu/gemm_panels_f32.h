// The f32 X-panel GEMM of the avx512 variant (W as BF16, F16 or F32; both precisions, since Gemm() rounds X
// to bf16-valued floats for Precision::kBF16 before packing). The f32 counterpart of gemm_panels.h: X is
// packed once per Gemm() call into panels of 16 rows, one zmm each, and the kernel broadcasts W scalars
// against them, so every accumulator lane is a finished output and no horizontal sums are left (the NT tile
// kernel in gemm_tiled.h reduces 12 zmm accumulators at the end of every k block and reuses each W vector
// only 3-4 times).
//
// The driver (gemm_panels_f32_tiles.h) is generic in the vector width. An avx2 instance (8-row ymm panels,
// 12 accumulators: 8 × 12 or 16 × 6 tiles) was built and measured on the AMD EPYC AVX-512 development host
// against the avx2 NT kernel: 0.76-1.03x at 16-512 rows single-threaded, 0.78-0.94x on two threads. With 16
// ymm registers a tile reuses each X load 6 times and each broadcast twice, no better than the NT 4 × 3
// tile, and the avx2 NT kernel's reductions are cheap (three hadds per four sums), so it was dropped.
//
// Panel layout: group g holds X rows [L·g, L·g + L) (L = 16); element [g][t][l] = x[L·g + l][t], at offset
// (g·k + t)·L + l. Rows past m are zero, so tiles never need row masks; any k (odd too) works.
#pragma once
#include <cstdint>

namespace tt {

// From this many X rows up, Gemm() packs f32 panels for the avx512 variant; below, the NT tile kernel runs.
// Measured on the AMD EPYC development host (Qwen2.5-0.5B MLP shapes, NT ÷ panel time): 8 rows 0.68-0.83
// (one panel group: a load per FMA, every widened W block used by 16 rows only), 16 rows 0.80-1.11, 32 rows
// 0.94-1.54, 64 rows 1.07-2.10, 512 rows 1.49-2.70.
constexpr int64_t kF32PanelMinRows = 32;

// Floats the panels of an [m, k] X take with `lanes` rows per group.
inline int64_t F32PanelElems(int64_t m, int64_t k, int lanes) { return (m + lanes - 1) / lanes * lanes * k; }

// Packs the `lanes`-row groups [g0, g1) of X ([m, k] f32, row stride lda) into `out`. Portable code: the
// copy is m·k floats against the GEMM's m·n·k multiply-adds.
void PackXPanelsF32(const float* x, int64_t lda, int64_t m, int64_t k, int lanes, int64_t g0, int64_t g1, float* out);

}  // namespace tt
