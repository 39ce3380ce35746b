// The blocked GEMM driver shared by every SIMD variant. Each ISA file supplies a small traits struct
// (vector types, loads, the dot step, the horizontal sum) and instantiates GemmTiled<Traits, WD>; the
// loop structure, blocking and remainder handling live here once, so the AVX-512 variants (which this
// project's development host cannot run) execute exactly the code the AVX2 tests cover.
//
// Layout is "NT": X rows and W rows both run along k, so a tile of MR rows of X × NR rows of W keeps
// MR·NR vector accumulators that advance along k together and are reduced horizontally once per k
// block. Blocking:
//   - the columns [n0, n1) of one work chunk go in blocks of `nc` W rows × `kc` k that fit in L2,
//     so prefill (many X rows) re-reads W from L2 instead of memory;
//   - within a block, an X row group (MR × kc, in L1) meets every W tile of the block;
//   - when all of X is one row group (decode), kc = k: W streams from memory exactly once and every
//     output is reduced once.
//
// Traits contract (see gemm_avx2.cc for the reference instance):
//   XT       element type of X in memory (float, or uint16_t bf16 bits for dot-product variants)
//   Acc      accumulator vector of f32 lanes
//   XVec     X operand vector, WVec W operand vector (as the dot step wants them)
//   kStep    k elements one vector step consumes (a multiple of 8, dividing KBlock)
//   Zero(), LoadX(const XT*), LoadW<WD>(const WElem<WD>*), Dot(acc, x, w), Sum(acc),
//   Sum4(a, b, c, d, out[4]) (the four sums, in order)
//
// Everything here is in an anonymous namespace on purpose: the header is compiled with different
// -m flags in each ISA file, and internal linkage keeps the linker from merging an AVX-512
// instantiation into the AVX2 code path.
#pragma once
#include <cstdint>
#include <cstring>

#include "gemm.h"

namespace tt {
namespace {

// W element type as stored: f32 for F32, raw 16-bit patterns for F16 and BF16.
template <DType WD> struct WElemOf { using type = uint16_t; };
template <> struct WElemOf<DType::kF32> { using type = float; };
template <DType WD> using WElem = typename WElemOf<WD>::type;

// k elements per block when X has more than one row group: the X row group (4 rows of f32) and the
// W tile passing by (3 rows) stay within a 32 KiB L1 — 4·1024·4 + 3·1024·2 = 22 KiB for 16-bit
// weights, 4·512·4 + 3·512·4 = 14 KiB for f32 ones (at 1024 f32 would crowd L1 and ran slower).
// Longer blocks mean fewer horizontal reductions, which is why 16-bit weights take the longer one.
template <DType WD>
constexpr int64_t KBlock() {
  return sizeof(WElem<WD>) == 4 ? 512 : 1024;
}
// Bytes of W one column block may hold (kc × nc elements): well inside a 512 KiB L2.
constexpr int64_t kWBlockBytes = 192 * 1024;

// Operands of one tile: y[MR, NR] (+)= x[MR, kc] · w[NR, kc]ᵀ.
template <class V, DType WD>
struct TileArgs {
  const typename V::XT* x;  // [MR rows, kc], row stride lda
  int64_t lda;
  const WElem<WD>* w;       // [NR rows, kc], row stride ldw
  int64_t ldw;
  int64_t kc;               // k elements of this block
  float* y;                 // [MR, NR] outputs, row stride ldy
  int64_t ldy;
  const float* bias;        // [NR] added on the first k block, or null
  bool first;               // first k block: overwrite y instead of adding to it
};

// One register tile. The smaller operand set stays in registers across the step and the larger one
// streams through a single register, so MR·NR accumulators + min(MR, NR) + 1 fit 16 ymm registers
// for every tile shape used below (4×3, 3×4, 2×6, 1×8, r×1).
template <class V, DType WD, int MR, int NR>
void Tile(const TileArgs<V, WD>& a) {
  using XT = typename V::XT;
  using WE = WElem<WD>;
  typename V::Acc acc[MR][NR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) acc[i][j] = V::Zero();

  // One vector step at offset t of the row pointers xs/ws (each row at its own stride).
  auto step = [&](const XT* xs, int64_t lx, const WE* ws, int64_t lw) {
    if constexpr (NR <= MR) {
      typename V::WVec wv[NR];
#pragma GCC unroll 16
      for (int j = 0; j < NR; j++) wv[j] = V::template LoadW<WD>(ws + j * lw);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        const typename V::XVec xv = V::LoadX(xs + i * lx);
#pragma GCC unroll 16
        for (int j = 0; j < NR; j++) acc[i][j] = V::Dot(acc[i][j], xv, wv[j]);
      }
    } else {
      typename V::XVec xv[MR];
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) xv[i] = V::LoadX(xs + i * lx);
#pragma GCC unroll 16
      for (int j = 0; j < NR; j++) {
        const typename V::WVec wv = V::template LoadW<WD>(ws + j * lw);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) acc[i][j] = V::Dot(acc[i][j], xv[i], wv);
      }
    }
  };

  // While this tile runs, pull the next tile's W (same k range) towards L2, one request per 64-byte
  // line: in decode it comes from memory, and without this each tile would start with a cold miss
  // on every row. Prefetches never fault, so running past the block's end is harmless.
  // Two orders, measured on Zen 3 (decode, weights colder than L3): row by row, in step with this
  // tile, keeps several streams in flight and wins for long rows (k = 4864 bf16: ~16 vs ~13 GB/s);
  // when whole short rows make the next tile one small contiguous region, one sequential sweep of
  // it wins (k = 512..896 bf16: ~12.5 vs ~9.5 GB/s).
  constexpr int64_t kStepBytes = V::kStep * static_cast<int64_t>(sizeof(WE));
  const WE* next = a.w + NR * a.ldw;
  const bool sweep = a.kc == a.ldw && a.kc * static_cast<int64_t>(sizeof(WE)) <= 2048;
  int64_t t = 0;
  for (; t + V::kStep <= a.kc; t += V::kStep) {
    if (sweep) {
      // The next tile's NR·kc elements, at NR times this tile's pace along its rows.
      const char* region = reinterpret_cast<const char*>(next) + t * NR * static_cast<int64_t>(sizeof(WE));
#pragma GCC unroll 16
      for (int64_t b = 0; b < NR * kStepBytes; b += 64) __builtin_prefetch(region + b, 0, 2);
    } else if (((t * static_cast<int64_t>(sizeof(WE))) & 63) < kStepBytes) {
#pragma GCC unroll 16
      for (int j = 0; j < NR; j++) __builtin_prefetch(next + j * a.ldw + t, 0, 2);
    }
    step(a.x + t, a.lda, a.w + t, a.ldw);
  }
  if (t < a.kc) {
    // k tail: copy the last kc - t elements of each row into zero-padded rows; the zero lanes add
    // 0 · 0 to every accumulator, so no masking is needed downstream.
    const int64_t rem = a.kc - t;
    XT xt[MR][V::kStep];
    WE wt[NR][V::kStep];
    memset(xt, 0, sizeof(xt));
    memset(wt, 0, sizeof(wt));
    for (int i = 0; i < MR; i++) memcpy(xt[i], a.x + i * a.lda + t, rem * sizeof(XT));
    for (int j = 0; j < NR; j++) memcpy(wt[j], a.w + j * a.ldw + t, rem * sizeof(WE));
    step(&xt[0][0], V::kStep, &wt[0][0], V::kStep);
  }

  // Horizontal sums, four accumulators at a time where the traits can fold them together.
  constexpr int kAcc = MR * NR;
  float sums[kAcc];
#pragma GCC unroll 16
  for (int q = 0; q + 4 <= kAcc; q += 4)
    V::Sum4(acc[q / NR][q % NR], acc[(q + 1) / NR][(q + 1) % NR], acc[(q + 2) / NR][(q + 2) % NR],
            acc[(q + 3) / NR][(q + 3) % NR], sums + q);
#pragma GCC unroll 16
  for (int q = kAcc - kAcc % 4; q < kAcc; q++) sums[q] = V::Sum(acc[q / NR][q % NR]);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    float* y = a.y + i * a.ldy;
#pragma GCC unroll 16
    for (int j = 0; j < NR; j++) {
      const float s = sums[i * NR + j];
      y[j] = a.first ? s + (a.bias ? a.bias[j] : 0.f) : y[j] + s;
    }
  }
}

// A row group of MR rows against `cols` W rows: NR-wide tiles, then single columns for the rest.
template <class V, DType WD, int MR, int NR>
void Panel(TileArgs<V, WD> a, int64_t cols) {
  int64_t j = 0;
  for (; j + NR <= cols; j += NR) {
    Tile<V, WD, MR, NR>(a);
    a.w += NR * a.ldw;
    a.y += NR;
    if (a.bias) a.bias += NR;
  }
  for (; j < cols; j++) {
    Tile<V, WD, MR, 1>(a);
    a.w += a.ldw;
    a.y += 1;
    if (a.bias) a.bias += 1;
  }
}

// Tile shape by the number of X rows: as many accumulators as the registers allow (12 of 16 ymm,
// 8 for a single row), more W rows per tile when X has fewer rows.
struct TilePlan {
  int rows, cols;
};
inline TilePlan PlanFor(int64_t m) {
  if (m >= 4) return {4, 3};
  if (m == 3) return {3, 4};
  if (m == 2) return {2, 6};
  return {1, 8};
}

// Runtime (rows, cols) to a compiled panel. Only the shapes PlanFor produces, plus the row
// remainders 1..3 of the 4×3 plan, exist.
template <class V, DType WD>
void DispatchPanel(int rows, int cols, const TileArgs<V, WD>& a, int64_t ncols) {
  switch (rows * 16 + cols) {
    case 4 * 16 + 3: return Panel<V, WD, 4, 3>(a, ncols);
    case 3 * 16 + 3: return Panel<V, WD, 3, 3>(a, ncols);
    case 2 * 16 + 3: return Panel<V, WD, 2, 3>(a, ncols);
    case 1 * 16 + 3: return Panel<V, WD, 1, 3>(a, ncols);
    case 3 * 16 + 4: return Panel<V, WD, 3, 4>(a, ncols);
    case 2 * 16 + 6: return Panel<V, WD, 2, 6>(a, ncols);
    case 1 * 16 + 8: return Panel<V, WD, 1, 8>(a, ncols);
  }
}

// Y[:, n0:n1) for all m rows. `x` is the X the traits read ([m, k], row stride lda): p.x for f32
// variants, bf16 bits for dot-product variants.
template <class V, DType WD>
void GemmTiled(const GemmParams& p, const typename V::XT* x, int64_t lda, int64_t n0, int64_t n1) {
  static_assert(KBlock<WD>() % V::kStep == 0, "k blocks must hold whole vector steps");
  const TilePlan plan = PlanFor(p.m);
  const WElem<WD>* w = static_cast<const WElem<WD>*>(p.w);
  // One row group: nothing in X or W is reused across groups, so take k in one pass.
  const int64_t kc_max = p.m <= plan.rows ? p.k : KBlock<WD>();
  int64_t nc = kWBlockBytes / (kc_max * static_cast<int64_t>(sizeof(WElem<WD>)));
  nc = nc < plan.cols ? plan.cols : nc - nc % plan.cols;

  for (int64_t nb = n0; nb < n1; nb += nc) {
    const int64_t cols = nb + nc < n1 ? nc : n1 - nb;
    for (int64_t kb = 0; kb < p.k; kb += kc_max) {
      TileArgs<V, WD> a;
      a.lda = lda;
      a.ldw = p.k;
      a.kc = kb + kc_max < p.k ? kc_max : p.k - kb;
      a.ldy = p.ldy;
      a.first = kb == 0;
      for (int64_t i = 0; i < p.m; i += plan.rows) {
        const int rows = static_cast<int>(p.m - i < plan.rows ? p.m - i : plan.rows);
        a.x = x + i * lda + kb;
        a.w = w + nb * p.k + kb;
        a.y = p.y + i * p.ldy + nb;
        a.bias = p.bias ? p.bias + nb : nullptr;
        DispatchPanel<V, WD>(rows, plan.cols, a, cols);
      }
    }
  }
}

}  // namespace
}  // namespace tt
