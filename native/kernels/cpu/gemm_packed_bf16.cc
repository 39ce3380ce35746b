// The BF16 GEMM on packed weights (packed_weights.h) with AVX-512 BF16, for precision 'bf16': one zmm
// holds one bf16 pair of each of 16 W rows, and a tile of R X rows by G groups keeps R·G accumulators
// of 16 columns each. Per pair, G weight loads and R broadcasts of an X pair feed R·G vdpbf16ps (6 x 4:
// 10 loads per 24 dot products), where the X-panel kernel (gemm_panels.h) pays one broadcast load per
// dot product and so, at 16 rows, waits on loads at under half the dot peak. At batch 1 the same layout
// streams W once with no horizontal sums. Every lane is a finished column.
// Compiled with the avx512bf16 flags (native/sources.json).
// GCC 12's _mm512_undefined_* helpers trip -Wuninitialized at every inlined use (see gemm_avx512bf16.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "packed_weights.h"

namespace tt {

namespace {

constexpr int kTileRows = 6;
constexpr int kTileGroups = kBf16PackedGroups;
constexpr int64_t kRowTile = 48;  // X rows (a multiple of kTileRows) kept hot while the groups pass
// Prefetch distance, as in gemm_quant_packed_vnni.cc: 8 KiB in all, each of the tile's 4 group streams
// 2 KiB ahead of itself, continuing into the group its next tile reads (A/B on 2 threads: 1.02-1.15x
// over 8 KiB per stream, which partly fetched what the neighbour stream was reading; 16 KiB in all was
// no better). Only the first X rows to meet a tile prefetch: they read it from memory, the rows after
// them from L2. Before, only tiles of one or two rows prefetched, and at 4, 16 and 64 rows the first
// pass waited on the hardware prefetchers alone (A/B of decode steps, 2 threads: 1.16x at batch 4,
// 1.10x at 16, 1.05x at 64; prefetching the next tile from every pass instead gained nothing more).
constexpr int64_t kAhead = 8192;

// R X rows (from i0) by G groups (from g0): all k, then y (+ bias) for columns < n. kPrefetch: the
// groups come from memory (these are the first X rows to meet them), so each stream prefetches ahead.
template <int R, int G, bool kPrefetch>
void Tile(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t i0, int64_t g0) {
  const int64_t pairs = p.k / 2;
  const uint32_t* x[R];
  for (int r = 0; r < R; r++) x[r] = reinterpret_cast<const uint32_t*>(p.x_bf16 + (i0 + r) * p.k);
  const uint8_t* w = base + g0 * stride;
  __m512 acc[R][G];
  for (int r = 0; r < R; r++)
    for (int g = 0; g < G; g++) acc[r][g] = _mm512_setzero_ps();
  for (int64_t q = 0; q < pairs; q++) {
    __m512bh wv[G];
    for (int g = 0; g < G; g++) {
      const uint8_t* at = w + g * stride + q * 64;
      if (kPrefetch) {
        const int64_t ahead = q * 64 + kAhead / G;
        const uint8_t* next = ahead < pairs * 64 ? at + kAhead / G : w + (g + G) * stride + ahead - pairs * 64;
        _mm_prefetch(reinterpret_cast<const char*>(next), _MM_HINT_T0);
      }
      wv[g] = reinterpret_cast<__m512bh>(_mm512_load_si512(at));
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      const __m512bh xv = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(x[r][q])));
      for (int g = 0; g < G; g++) acc[r][g] = _mm512_dpbf16_ps(acc[r][g], wv[g], xv);
    }
  }
  for (int g = 0; g < G; g++) {
    const int64_t j0 = (g0 + g) * kPackRows;
    const int64_t cols = std::min<int64_t>(kPackRows, p.n - j0);
    const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
    const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(mask, p.bias + j0) : _mm512_setzero_ps();
    for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(p.y + (i0 + r) * p.ldy + j0, mask, _mm512_add_ps(acc[r][g], bias));
  }
}

template <int R, bool kPrefetch>
void TileOf(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t i0, int64_t g0, int64_t groups) {
  switch (groups) {
    case 1: return Tile<R, 1, kPrefetch>(p, base, stride, i0, g0);
    case 2: return Tile<R, 2, kPrefetch>(p, base, stride, i0, g0);
    case 3: return Tile<R, 3, kPrefetch>(p, base, stride, i0, g0);
    default: return Tile<R, 4, kPrefetch>(p, base, stride, i0, g0);
  }
}

// R rows from i0 against `groups` groups from g0; `first`: the first rows of the row tile to read them.
template <int R>
void Rows(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t i0, int64_t g0, int64_t groups, bool first) {
  if (first) TileOf<R, true>(p, base, stride, i0, g0, groups); else TileOf<R, false>(p, base, stride, i0, g0, groups);
}

// Groups [g0, g1) for every X row: row tiles outside, then 4 groups at a time, 6 rows at a time.
void Packed(const GemmParams& p, int64_t g0, int64_t g1) {
  const uint8_t* base = static_cast<const uint8_t*>(p.w_packed);
  const int64_t stride = PackedGroupStride(DType::kBF16, p.k);
  for (int64_t t0 = 0; t0 < p.m; t0 += kRowTile) {
    const int64_t t1 = std::min(p.m, t0 + kRowTile);
    for (int64_t g = g0; g < g1; g += kTileGroups) {
      const int64_t groups = std::min<int64_t>(kTileGroups, g1 - g);
      int64_t i = t0;
      for (; i + kTileRows <= t1; i += kTileRows) Rows<kTileRows>(p, base, stride, i, g, groups, i == t0);
      switch (t1 - i) {
        case 1: Rows<1>(p, base, stride, i, g, groups, i == t0); break;
        case 2: Rows<2>(p, base, stride, i, g, groups, i == t0); break;
        case 3: Rows<3>(p, base, stride, i, g, groups, i == t0); break;
        case 4: Rows<4>(p, base, stride, i, g, groups, i == t0); break;
        case 5: Rows<5>(p, base, stride, i, g, groups, i == t0); break;
        default: break;
      }
    }
  }
}

}  // namespace

GemmBlockFn GemmPackedBf16() { return Packed; }

}  // namespace tt
