// The f32 X-panel GEMM driver (layout and why: gemm_panels_f32.h), generic in the vector width: the
// avx512 variant supplies a traits struct and instantiates GemmPanelsF32<Traits, WD>. Like gemm_tiled.h,
// everything is in an anonymous namespace, so instances compiled with different -m flags never merge.
//
// Traits contract (see gemm_avx512.cc):
//   Vec          f32 vector of kLanes lanes (one lane per X row of a panel group)
//   kLanes       rows per panel group (8 ymm, 16 zmm)
//   kAccs        accumulators a tile keeps (MV·NR), leaving registers for MV X vectors and a broadcast
//   kMaxMv       most panel groups one tile takes
//   Zero(), Load(const float*), Broadcast(const float*), Fma(acc, x, w) = acc + x·w, StoreAligned(float*, Vec)
//   ToF32<WD>(const WElem<WD>* src, int64_t n, float* dst)   n weights widened to f32
//   BroadcastW<WD>(const WElem<WD>* p)   one weight widened to f32 in every lane
//
// W, two ways, both measured (AMD EPYC AVX-512 host, bf16 weights, one thread, A/B in one process):
//   (a) widen at every broadcast, straight from the checkpoint rows (BroadcastW): one shift or
//       vcvtph2ps per MV FMAs, nothing stored;
//   (b) widen a tile's NR rows × a k block once into a per-thread f32 buffer and broadcast from it
//       (a pure load); the block serves every row group of a row block.
// For a single row tile of 2 or 4 groups (32 or 64 rows) (a) ran 1.0-1.2x (b) (64 × 4864 × 896:
// 192 vs 167 GFLOP/s), so it takes those; (b) serves the row-blocked path (more than 64 rows, where
// one widened block feeds many tiles) and the narrow remainder tiles. The buffer's rows sit at a
// compile-time stride, so a (b) tile addresses all NR of them from one running pointer with constant
// displacements (no per-row pointers to spill).
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <vector>

#include "../common/math.h"
#include "gemm.h"
#include "gemm_tiled.h"

namespace tt {
namespace {

// k per block of the row-blocked path: its widened W tile (6 or 12 rows, ≤ 25 KiB) stays in L1 while
// every row group of the block broadcasts from it, and each tile's Y is read and written once per
// block (through a transposing buffer: at 256-step blocks that was a tenth of the time of a 16 × 6 tile).
constexpr int64_t kPanelF32KBlock = 512;
// k per block a single row tile widens for itself (up to 24 rows of W: 24 KiB, in L1).
constexpr int64_t kPanelF32KChunk = 256;
// Floats between rows of the widened W buffer: one cache line more than a k block, so the NR rows a
// step broadcasts from fall in different L1 sets (at 4 KiB apart all 24 would share one 8-way set and
// evict each other every step: m = 16 ran at a third of the speed).
constexpr int64_t kPanelF32WStride = kPanelF32KBlock + 16;
// Bytes of X panels one row block may hold (kPanelF32KBlock k of each group): 256 KiB of a 1 MiB
// (or 512 KiB) L2.
constexpr int64_t kPanelF32RowBlockBytes = 256 * 1024;

// Rows of source W to prefetch: `rows` rows of `row_bytes` bytes, `stride` bytes apart, from `base`.
struct WRegion {
  const char* base = nullptr;
  int64_t stride = 0, row_bytes = 0, rows = 0;
};

// Source W rows a tile widens itself, block by block (when its rows are all of X, so no other tile
// shares the widened blocks): row j at base + j·stride bytes, widened by `widen`. Null base: the
// caller has widened the tile's (single) block into the buffer already.
struct WSource {
  const char* base = nullptr;
  int64_t stride = 0;
  void (*widen)(const char* src, int64_t n, float* dst) = nullptr;
  int64_t elem_bytes = 0;
};

// One tile: Y[L·MV rows, NR columns] (+)= panels · Wᵀ over `steps` k.
//   xp: group 0 of the tile at the first k; group v at xp + v·gstride
//   wb: the widened W tile, row j at wb + j·kPanelF32WStride
//   src: where to widen W from, kPanelF32KChunk steps at a time (any `steps`); or empty, and then
//        wb already holds the tile's W and steps ≤ kPanelF32KBlock
//   rows: X rows of the tile that exist (the rest are zero padding and are not stored)
//   next: the source W rows the next tile will widen, pulled towards L2 while this tile runs; else null
template <class V, int MV, int NR>
void PanelTileF32(const float* xp, int64_t gstride, float* wb, int64_t steps, float* y, int64_t ldy, int64_t rows,
                  const float* bias, bool first, const WSource& src, const WRegion& next) {
  constexpr int L = V::kLanes;
  typename V::Vec acc[MV][NR];
#pragma GCC unroll 32
  for (int v = 0; v < MV; v++)
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) acc[v][j] = V::Zero();

  // The next W tile, line by line along its rows, up to two lines a step (f32 rows of a 1024-step
  // block have 64 lines each; NR rows of them take 1.5 lines a step). Widening W reads it row by row
  // right after this tile; from memory, without this, every row would start on cold misses.
  const char* pf = next.base;
  const char* pf_row = pf;
  const char* pf_end = pf + next.row_bytes;
  int64_t pf_rows = pf != nullptr ? next.rows : 0;
  const float* xs = xp;
  const int64_t chunk = src.base != nullptr ? kPanelF32KChunk : steps;
  for (int64_t t0 = 0; t0 < steps; t0 += chunk) {
  const int64_t t1 = std::min(steps, t0 + chunk);
  if (src.base != nullptr) {
    for (int j = 0; j < NR; j++) src.widen(src.base + j * src.stride + t0 * src.elem_bytes, t1 - t0, wb + j * kPanelF32WStride);
  }
  const float* ws = wb;
  for (int64_t t = t0; t < t1; t++) {
    if (pf_rows > 0) {
#pragma GCC unroll 2
      for (int i = 0; i < 2; i++) {
        _mm_prefetch(pf, _MM_HINT_T1);
        pf += 64;
        if (pf >= pf_end) {
          pf_row += next.stride;
          pf = pf_row;
          pf_end = pf_row + next.row_bytes;
          pf_rows--;
        }
      }
    }
    // Opaque each step: GCC would otherwise give each W row its own induction variable and spill them.
    asm("" : "+r"(ws));
    typename V::Vec xv[MV];
#pragma GCC unroll 8
    for (int v = 0; v < MV; v++) xv[v] = V::Load(xs + v * gstride);
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) {
      const typename V::Vec b = V::Broadcast(ws + j * kPanelF32WStride);
#pragma GCC unroll 8
      for (int v = 0; v < MV; v++) acc[v][j] = V::Fma(acc[v][j], xv[v], b);
    }
    ws += 1;
    xs += L;
  }
  }

  // Lane l of acc[v][j] is Y[L·v + l][j]: write through a small transposing buffer.
  alignas(64) float tmp[NR][L];
#pragma GCC unroll 8
  for (int v = 0; v < MV; v++) {
    const int64_t valid = std::min<int64_t>(L, rows - L * v);
    if (valid <= 0) break;
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) V::StoreAligned(tmp[j], acc[v][j]);
    for (int64_t l = 0; l < valid; l++) {
      float* yr = y + (L * v + l) * ldy;
      if (first) {
        for (int j = 0; j < NR; j++) yr[j] = tmp[j][l] + (bias ? bias[j] : 0.f);
      } else {
        for (int j = 0; j < NR; j++) yr[j] += tmp[j][l];
      }
    }
  }
}

using PanelTileF32Fn = void (*)(const float*, int64_t, float*, int64_t, float*, int64_t, int64_t, const float*, bool,
                                const WSource&, const WRegion&);

// The compiled (MV, NR) shapes: MV·NR = V::kAccs for MV = 1, 2, 4 (where MV ≤ kMaxMv), and the column
// remainders 8, 4, 2, 1 narrower than the main tile (PanelRemainderWidthF32). kMaxMv ≥ 4 stands for
// the 24-accumulator budget, the only one where MV = 2 takes 8 columns.
template <class V>
PanelTileF32Fn PanelTileF32For(int mv, int nr) {
  constexpr int A = V::kAccs;
  switch (mv * 64 + nr) {
    case 1 * 64 + A: return PanelTileF32<V, 1, A>;
    case 1 * 64 + 8: return PanelTileF32<V, 1, 8>;
    case 1 * 64 + 4: return PanelTileF32<V, 1, 4>;
    case 1 * 64 + 2: return PanelTileF32<V, 1, 2>;
    case 1 * 64 + 1: return PanelTileF32<V, 1, 1>;
    case 2 * 64 + A / 2: return PanelTileF32<V, 2, A / 2>;
    case 2 * 64 + 4: return PanelTileF32<V, 2, 4>;
    case 2 * 64 + 2: return PanelTileF32<V, 2, 2>;
    case 2 * 64 + 1: return PanelTileF32<V, 2, 1>;
  }
  if constexpr (V::kMaxMv >= 4) {
    switch (mv * 64 + nr) {
      case 2 * 64 + 8: return PanelTileF32<V, 2, 8>;
      case 4 * 64 + A / 4: return PanelTileF32<V, 4, A / 4>;
      case 4 * 64 + 4: return PanelTileF32<V, 4, 4>;
      case 4 * 64 + 2: return PanelTileF32<V, 4, 2>;
      case 4 * 64 + 1: return PanelTileF32<V, 4, 1>;
    }
  }
  return nullptr;
}


// A tile of design (a): Y[L·MV rows, NR columns] = panels · Wᵀ + bias over all `steps` k, W read from
// its rows (row j at w + j·ldw) and widened at each broadcast. Only for a single row tile (first block).
template <class V, DType WD, int MV, int NR>
void PanelTileDirectF32(const float* xp, int64_t gstride, const WElem<WD>* w, int64_t ldw, int64_t steps, float* y,
                        int64_t ldy, int64_t rows, const float* bias) {
  constexpr int L = V::kLanes;
  typename V::Vec acc[MV][NR];
#pragma GCC unroll 32
  for (int v = 0; v < MV; v++)
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) acc[v][j] = V::Zero();
  const float* xs = xp;
  for (int64_t t = 0; t < steps; t++) {
    typename V::Vec xv[MV];
#pragma GCC unroll 8
    for (int v = 0; v < MV; v++) xv[v] = V::Load(xs + v * gstride);
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) {
      const typename V::Vec b = V::template BroadcastW<WD>(w + j * ldw + t);
#pragma GCC unroll 8
      for (int v = 0; v < MV; v++) acc[v][j] = V::Fma(acc[v][j], xv[v], b);
    }
    xs += L;
  }
  alignas(64) float tmp[NR][L];
#pragma GCC unroll 8
  for (int v = 0; v < MV; v++) {
    const int64_t valid = std::min<int64_t>(L, rows - L * v);
    if (valid <= 0) break;
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) V::StoreAligned(tmp[j], acc[v][j]);
    for (int64_t l = 0; l < valid; l++) {
      float* yr = y + (L * v + l) * ldy;
      for (int j = 0; j < NR; j++) yr[j] = tmp[j][l] + (bias ? bias[j] : 0.f);
    }
  }
}

// Column width for a remainder narrower than the main tile: the widest of 8, 4, 2, 1 that fits both
// the columns left and the accumulator budget (and is not wider than the main tile).
template <class V>
int PanelRemainderWidthF32(int mv, int64_t cols) {
  for (int w : {8, 4, 2, 1})
    if (w <= cols && mv * w <= V::kAccs && (w < V::kAccs / mv)) return w;
  return 1;
}

// Y[:, n0:n1) for all m rows from p.x_panels_f32 (V::kLanes rows per group) and W of dtype WD. False
// (nothing written) when the per-thread W buffer cannot be allocated; the caller then runs the NT kernel.
template <class V, DType WD>
bool GemmPanelsF32(const GemmParams& p, int64_t n0, int64_t n1) {
  constexpr int L = V::kLanes;
  const int64_t groups = (p.m + L - 1) / L;
  const int mv = groups >= 4 && V::kMaxMv >= 4 ? 4 : groups >= 2 ? 2 : 1;
  const int nr = V::kAccs / mv;
  const int64_t gstride = p.k * L;
  const WElem<WD>* w = static_cast<const WElem<WD>*>(p.w);

  thread_local std::vector<float> wbuf;
  const size_t need = static_cast<size_t>(V::kAccs) * kPanelF32WStride;
  if (wbuf.size() < need) {
    try {
      wbuf.resize(need);
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  float* wb = wbuf.data();

  constexpr int64_t esz = sizeof(WElem<WD>);
  // The source rows of the next tile (columns [j, j + rows)), `steps` k from kb, for prefetching.
  auto region = [&](int64_t j, int64_t rows, int64_t kb, int64_t steps) {
    WRegion r;
    if (rows > 0) {
      r.base = reinterpret_cast<const char*>(w + j * p.k + kb);
      r.stride = p.k * esz;
      r.row_bytes = steps * esz;
      r.rows = rows;
    }
    return r;
  };

  if (groups == mv) {
    // All of X is one row tile (16 × 24, 32 × 12 or 64 × 6 on avx512): no
    // other tile reuses a widened W block, so each tile widens its own, block by block, and keeps
    // its accumulators over the whole k (Y written once).
    WSource source;
    source.stride = p.k * esz;
    source.elem_bytes = esz;
    source.widen = [](const char* from, int64_t n, float* to) { V::template ToF32<WD>(reinterpret_cast<const WElem<WD>*>(from), n, to); };
    for (int64_t j = n0; j < n1;) {
      const int width = n1 - j >= nr ? nr : PanelRemainderWidthF32<V>(mv, n1 - j);
      const float* bias = p.bias ? p.bias + j : nullptr;
      if (width == nr && mv == 4 && V::kMaxMv >= 4) {
        PanelTileDirectF32<V, WD, 4, V::kAccs / 4>(p.x_panels_f32, gstride, w + j * p.k, p.k, p.k, p.y + j, p.ldy, p.m, bias);
        j += width;
        continue;
      }
      if (width == nr && mv == 2) {
        PanelTileDirectF32<V, WD, 2, V::kAccs / 2>(p.x_panels_f32, gstride, w + j * p.k, p.k, p.k, p.y + j, p.ldy, p.m, bias);
        j += width;
        continue;
      }
      source.base = reinterpret_cast<const char*>(w + j * p.k);
      PanelTileF32For<V>(mv, width)(p.x_panels_f32, gstride, wb, p.k, p.y + j, p.ldy, p.m, p.bias ? p.bias + j : nullptr, true,
                                    source, region(j + width, std::min<int64_t>(nr, n1 - j - width), 0, p.k));
      j += width;
    }
    return true;
  }

  // Blocking: k blocks of kPanelF32KBlock; row blocks of as many groups as fit the L2 budget, so a
  // widened W tile meets every group of a row block and the row block's panels meet every W tile.
  const int64_t kc = std::min<int64_t>(p.k, kPanelF32KBlock);
  int64_t mcg = std::max<int64_t>(mv, kPanelF32RowBlockBytes / (kc * L * static_cast<int64_t>(sizeof(float))));
  mcg -= mcg % mv;

  for (int64_t kb = 0; kb < p.k; kb += kc) {
    const int64_t steps = std::min(kc, p.k - kb);
    const bool first = kb == 0;
    for (int64_t gb = 0; gb < groups; gb += mcg) {
      const int64_t gend = std::min(groups, gb + mcg);
      for (int64_t j = n0; j < n1;) {
        const int64_t cols = n1 - j;
        const int width = cols >= nr ? nr : PanelRemainderWidthF32<V>(mv, cols);
        for (int r = 0; r < width; r++) V::template ToF32<WD>(w + (j + r) * p.k + kb, steps, wb + r * kPanelF32WStride);
        const float* bias = first && p.bias ? p.bias + j : nullptr;
        // The next tile's source rows, prefetched during the row block's first tile only (later
        // groups would fetch what is already on its way).
        const WRegion next = region(j + width, std::min<int64_t>(nr, n1 - j - width), kb, steps);
        for (int64_t g = gb; g < gend;) {
          const int64_t left = gend - g;
          const int tmv = left >= mv ? mv : left >= 2 ? 2 : 1;
          // A row remainder (tmv < mv) has no tile of this width compiled: cover it with narrower ones.
          for (int c = 0; c < width;) {
            const int cw = tmv == mv ? width : PanelRemainderWidthF32<V>(tmv, width - c);
            PanelTileF32For<V>(tmv, cw)(p.x_panels_f32 + g * gstride + kb * L, gstride, wb + c * kPanelF32WStride, steps,
                                        p.y + g * L * p.ldy + j + c, p.ldy, p.m - g * L, bias ? bias + c : nullptr, first,
                                        WSource(), g == gb && c == 0 ? next : WRegion());
            c += cw;
          }
          g += tmv;
        }
        j += width;
      }
    }
  }
  return true;
}

}  // namespace
}  // namespace tt
